// Entry point of the browser simulator: GLFW window on the page's canvas, WebGL2 through
// ImGui's OpenGL3 backend, and the per-frame loop (advance the simulation, draw every panel).
#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>

#include <cstdio>

#include "app.h"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "panels.h"

namespace {

GLFWwindow* g_window = nullptr;
double g_lastFrameStart = 0;

void syncCanvasSize() {
    double w = 0, h = 0;
    emscripten_get_element_css_size("#canvas", &w, &h);
    int cw = 0, ch = 0;
    glfwGetWindowSize(g_window, &cw, &ch);
    if (w >= 1 && h >= 1 && (static_cast<int>(w) != cw || static_cast<int>(h) != ch)) {
        // What glfwSetWindowSize does, minus its first branch: Emscripten's GLFW asks for
        // fullscreen (and pointer lock) instead of resizing when the size equals the screen's, so
        // a canvas as large as the screen (a kiosk browser, headless chromium at 1440x900) was
        // never resized and the page threw "Permissions check failed" every frame.
        EM_ASM({
            var win = GLFW.WindowFromId($0);
            if (!win) return;
            Browser.setCanvasSize($1, $2);
            win.width = $1;
            win.height = $2;
        }, g_window, static_cast<int>(w), static_cast<int>(h));
    }
}

void frame() {
    keb::web::App& app = keb::web::App::instance();
    const double start = emscripten_get_now();
    const double interval = g_lastFrameStart > 0 ? start - g_lastFrameStart : 0;
    g_lastFrameStart = start;

    ++app.frameNumber;
    syncCanvasSize();
    glfwPollEvents();
    app.advance(interval);
    const double simDone = emscripten_get_now();

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    keb::web::drawUi(app);
    ImGui::Render();
    const double uiDone = emscripten_get_now();

    int fbw = 0, fbh = 0;
    glfwGetFramebufferSize(g_window, &fbw, &fbh);
    glViewport(0, 0, fbw, fbh);
    glClearColor(0.106f, 0.114f, 0.133f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    const double end = emscripten_get_now();
    app.frames.add(end - start, interval, simDone - start, uiDone - simDone, end - uiDone);
    app.lastOtherMs = end - simDone;
}

}  // namespace

int main() {
    if (!glfwInit()) {
        std::fprintf(stderr, "keb-web: glfwInit failed\n");
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    double w = 1280, h = 800;
    emscripten_get_element_css_size("#canvas", &w, &h);
    g_window = glfwCreateWindow(w > 1 ? static_cast<int>(w) : 1280, h > 1 ? static_cast<int>(h) : 800,
                                "KEB orchestration simulator", nullptr, nullptr);
    if (!g_window) {
        std::fprintf(stderr, "keb-web: could not create a WebGL2 context\n");
        return 1;
    }
    glfwMakeContextCurrent(g_window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // layout comes from code, nothing persisted
    ImGui::StyleColorsDark();
    ImGui::GetStyle().WindowRounding = 0;
    ImGui_ImplGlfw_InitForOpenGL(g_window, true);
    ImGui_ImplOpenGL3_Init("#version 300 es");

    keb::web::App::instance().init();
    EM_ASM({ if (Module.kebAppReady) Module.kebAppReady(); });
    emscripten_set_main_loop(frame, 0, false);
    return 0;
}
