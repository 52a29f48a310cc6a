// UUID text <-> 16 bytes, for the compact stores (engine slots, MemoryStore, the simulated fleet).
// Only the canonical form packs: 36 chars, lower-case hex, dashes at 8/13/18/23. Anything else
// (upper case, other lengths) must be kept as text, or it would not come back byte for byte.
#pragma once
#include <string>
#include <string_view>

namespace keb {

// false (out unspecified) when s is not a canonical UUID.
bool packUuid(std::string_view s, unsigned char out[16]);
// The canonical text of 16 bytes into out (its capacity is reused).
void unpackUuid(const unsigned char in[16], std::string& out);

}  // namespace keb
