// The latent walk's picture: two keyframes (uploaded top row first) blended by u_alpha, fitted into u_rect
// (the picture's place in the target, in target uv with y up: x0, y0, width, height), background around it.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
uniform sampler2D u_a;
uniform sampler2D u_b;
uniform float u_alpha;      // 0 shows u_a, 1 u_b
uniform int u_count;        // keyframes bound: 0 (background only), 1 (u_a only) or 2
uniform vec4 u_rect;
uniform vec3 u_background;

in vec2 v_uv;
out vec4 f_color;

void main() {
    vec2 p = (v_uv - u_rect.xy) / u_rect.zw;
    if (u_count == 0 || any(lessThan(p, vec2(0.0))) || any(greaterThan(p, vec2(1.0)))) {
        f_color = vec4(u_background, 1.0);
        return;
    }
    vec2 uv = vec2(p.x, 1.0 - p.y);  // the image's first row is its top
    vec3 c = texture(u_a, uv).rgb;
    if (u_count == 2) {
        c = mix(c, texture(u_b, uv).rgb, u_alpha);
    }
    f_color = vec4(c, 1.0);
}
#endif
