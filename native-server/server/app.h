// keb-server: wiring of store, auth, fleet/backend, engine loop and the HTTP server.
#pragma once
#include "options.h"

namespace keb::server {

// Runs until SIGINT/SIGTERM. Returns the process exit code.
int runServer(const ServerOptions& options);

}  // namespace keb::server
