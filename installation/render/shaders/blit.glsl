// Copies a texture onto the bound framebuffer (used when a target's size differs from the grid's).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
uniform sampler2D u_source;
in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = vec4(texture(u_source, v_uv).rgb, 1.0);
}
#endif
