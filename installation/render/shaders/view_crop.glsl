// A wall viewport: copies the viewport's part of the rendered region (viewport + margin) onto the display,
// scaled to its resolution. u_rect: the viewport inside the region texture, (u, v, width, height) in
// texture coordinates (v = 0 at texel row 0, the region's bottom).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
uniform sampler2D u_source;
uniform vec4 u_rect;
in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = vec4(texture(u_source, u_rect.xy + v_uv * u_rect.zw).rgb, 1.0);
}
#endif
