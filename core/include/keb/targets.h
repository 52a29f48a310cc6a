// Target resolution (SPEC 3): include/exclude rules over a fleet snapshot.
#pragma once
#include <string>
#include <vector>

#include "keb/model.h"

namespace keb {

// Result: union of includes in fleet order per include rule (rule order first),
// de-duplicated by runtimeID, minus every runtime matched by any exclude.
// Deprovisioning or suspended runtimes are skipped (reported in *skipped if given).
// Regexes are assumed valid (validated at request time); an invalid one matches nothing.
std::vector<const Runtime*> resolveTargets(const Targets& targets, const std::vector<Runtime>& fleet,
                                           std::vector<const Runtime*>* skipped = nullptr);

bool targetMatches(const Target& target, const Runtime& runtime);

}  // namespace keb
