// The huge-page allocator of the world's big tables is the core's (keb/big_alloc.h), shared with
// the engine's per-operation slots.
#pragma once
#include "keb/big_alloc.h"

namespace keb::world {
using keb::allocateBig;
using keb::BigAllocator;
using keb::deallocateBig;
using keb::kBigBlock;
}  // namespace keb::world
