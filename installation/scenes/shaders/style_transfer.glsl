// The style mirror's picture: the last two stylized frames blended (smooth motion at a low model rate), and
// the attract picture (two style paintings cross-fading) mixed over it. Each picture is fitted (cover or
// contain: u_*_scale maps screen uv to texture uv around the centre); outside a picture, the background.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D u_live0;     // the stylized frame before...
uniform sampler2D u_live1;     // ...and the newest one
uniform sampler2D u_paint0;    // the style painting before...
uniform sampler2D u_paint1;    // ...and the current one
uniform vec2 u_live_scale;
uniform vec2 u_paint0_scale;
uniform vec2 u_paint1_scale;
uniform float u_live_mix;      // 0: u_live0, 1: u_live1
uniform float u_paint_mix;     // 0: u_paint0, 1: u_paint1
uniform float u_attract;       // 0: the live picture, 1: the attract picture
uniform float u_has_live;      // 0 while no frame has arrived: the background
uniform float u_has_paint;     // 0 while no painting is loaded (or attract: background)
uniform float u_flip;          // 1: mirror the live picture left-right
uniform vec3 u_background;

in vec2 v_uv;
out vec4 f_color;

vec3 fitted(sampler2D tex, vec2 uv, vec2 scale) {
    vec2 t = (uv - 0.5) * scale + 0.5;
    if (t.x < 0.0 || t.x > 1.0 || t.y < 0.0 || t.y > 1.0) {
        return u_background;
    }
    // texel row 0 of an uploaded image is its top; v_uv (0,0) is the target's row 0, its bottom
    return texture(tex, vec2(t.x, 1.0 - t.y)).rgb;
}

void main() {
    vec2 live_uv = vec2(u_flip > 0.5 ? 1.0 - v_uv.x : v_uv.x, v_uv.y);
    vec3 live = u_background;
    if (u_has_live > 0.5) {
        live = mix(fitted(u_live0, live_uv, u_live_scale), fitted(u_live1, live_uv, u_live_scale), u_live_mix);
    }
    vec3 attract = u_background;
    if (u_has_paint > 0.5) {
        attract = mix(fitted(u_paint0, v_uv, u_paint0_scale), fitted(u_paint1, v_uv, u_paint1_scale), u_paint_mix);
    }
    f_color = vec4(mix(live, attract, u_attract), 1.0);
}
#endif
