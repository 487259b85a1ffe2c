// Two whole pictures, the outgoing and the incoming scene, mixed by one of the render module's
// transition functions (shaders/transitions/*.glsl, injected as apply_transition).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/noise.glsl"
#include "lib/color.glsl"

uniform sampler2D u_from;
uniform sampler2D u_to;
uniform float u_progress;   // eased, 0..1
uniform int u_kind;         // transition id
uniform float u_seed;
uniform vec4 u_params;
uniform vec4 u_view;       // where this picture lies on the canvas: (u, v, width, height), top-left origin

in vec2 v_uv;
out vec4 f_color;

#pragma inject transitions

void main() {
    vec4 a = texture(u_from, v_uv);
    vec4 b = texture(u_to, v_uv);
    // The transitions expect (0,0) at the picture's top-left; texel row 0 is its bottom here. On a wall the
    // picture is one region of the canvas: the transition runs in canvas coordinates, so it has no seam.
    vec2 uv = u_view.xy + vec2(v_uv.x, 1.0 - v_uv.y) * u_view.zw;
    if (u_progress <= 0.0) {
        f_color = a;
    } else if (u_progress >= 1.0) {
        f_color = b;
    } else {
        f_color = apply_transition(u_kind, a, b, u_progress, uv, u_seed, u_params);
    }
    f_color.a = 1.0;
}
#endif
