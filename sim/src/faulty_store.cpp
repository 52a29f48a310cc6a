// FaultyStore (see faulty_store.h): ForwardingStore runs every write through beforeWrite().
#include "keb/sim/faulty_store.h"

#include <string>

namespace keb::sim {

void FaultyStore::fail(const char* what) {
    --armed_;
    ++failed_;
    throw StoreWriteFailure(std::string("simulated store failure: ") + what + " not written");
}

}  // namespace keb::sim
