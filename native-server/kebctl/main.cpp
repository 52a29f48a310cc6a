// kebctl: a command-line client of the KEB orchestration API in kcp's conventions (SPEC 13).
#include "app.h"

int main(int argc, char** argv) { return kebctl::run(argc, argv); }
