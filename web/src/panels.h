// The panels of the simulator. Each is one function that draws from App state.
#pragma once
#include "app.h"

namespace keb::web {

void drawUi(App& app);

}  // namespace keb::web
