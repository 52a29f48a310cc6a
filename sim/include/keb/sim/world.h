// The world library's types (keb::world: fleet generator, fault model, seeded randomness) under
// the names the simulator's driver has always used for them. Transitional: simulation.h,
// simulation.cpp and scenario.cpp are being split into driver, event log and checkers on another
// branch, and these using-declarations let the world move out without touching their code. New
// code writes world::X; once that split has landed, its files do too and this header goes.
#pragma once
#include "keb/world/backend.h"
#include "keb/world/flat_map.h"
#include "keb/world/fleet_gen.h"
#include "keb/world/random.h"

namespace keb::sim {

using world::DurationDist;
using world::FailureBurst;
using world::FaultPlan;
using world::FlatMap;
using world::FleetSpec;
using world::hashWords;
using world::loadLittleEndian64;
using world::planIdFor;
using world::Rng;
using world::SimBackend;
using world::SimFleet;
using world::UpgradeFate;
using world::Weighted;

}  // namespace keb::sim
