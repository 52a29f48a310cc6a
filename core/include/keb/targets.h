// Target resolution (SPEC 3): include/exclude rules over a fleet snapshot.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "keb/fleet.h"
#include "keb/model.h"

namespace keb {

// Result: union of includes in fleet order per include rule (rule order first),
// de-duplicated by runtimeID, minus every runtime matched by any exclude.
// Deprovisioning or suspended runtimes are skipped (reported in *skipped if given).
// Regexes are assumed valid (validated at request time); an invalid one matches nothing.
std::vector<const Runtime*> resolveTargets(const Targets& targets, const std::vector<Runtime>& fleet,
                                           std::vector<const Runtime*>* skipped = nullptr);

// The same resolution over a RuntimeList: positions into the list, in the order above.
// Skipped (deprovisioning or suspended) positions go to *skipped when given.
std::vector<std::uint32_t> resolveTargetIndices(const Targets& targets, const RuntimeList& fleet,
                                                std::vector<std::uint32_t>* skipped = nullptr);

bool targetMatches(const Target& target, const Runtime& runtime);

}  // namespace keb
