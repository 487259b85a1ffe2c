// Colour grading in linear light: exposure in stops, saturation around luminance, a tint that keeps
// luminance (the tint colour is normalised by its own luminance before it multiplies).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/color.glsl"
uniform sampler2D u_source;
uniform float u_exposure;    // stops: +1 doubles linear light
uniform float u_saturation;  // 0 gray, 1 unchanged, >1 more colourful
uniform vec3 u_tint;         // sRGB tint colour
uniform float u_tint_amount; // 0 none, 1 full
in vec2 v_uv;
out vec4 f_color;

void main() {
    vec3 c = srgb_to_linear(texture(u_source, v_uv).rgb);
    c *= exp2(u_exposure);
    float y = luminance(c);
    c = max(mix(vec3(y), c, u_saturation), vec3(0.0));
    vec3 tint = srgb_to_linear(u_tint);
    tint /= max(luminance(tint), 1e-4);
    c *= mix(vec3(1.0), tint, u_tint_amount);
    f_color = vec4(linear_to_srgb(clamp(c, 0.0, 1.0)), 1.0);
}
#endif
