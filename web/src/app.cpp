#include "app.h"

namespace keb::web {

App& App::instance() {
    static App app;
    return app;
}

void App::init() {}

void App::advance(double) {}

}  // namespace keb::web
