// kebctl: the command line (CLI11) and the commands of SPEC 13.
// Exit codes: 0 ok, 1 API/network error, 2 usage error.
#pragma once

namespace kebctl {

int run(int argc, char** argv);

}  // namespace kebctl
