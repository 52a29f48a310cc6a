// Dear ImGui configuration of the browser simulator (IMGUI_USER_CONFIG).
#pragma once
// 32-bit indices: the fleet map draws 10,000+ cells (4 vertices each) in one draw list, and
// WebGL2 has no base-vertex draws for ImGui to split 16-bit index ranges.
#define ImDrawIdx unsigned int
