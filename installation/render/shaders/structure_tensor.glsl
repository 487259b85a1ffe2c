// First Kuwahara pass: the structure tensor (E, F, G) of the image from Sobel derivatives summed over
// the colour channels. Stored unsmoothed in a float target; tensor_smooth.glsl smooths and analyses it.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
uniform sampler2D u_source;
out vec4 f_tensor;

vec3 at(ivec2 p, ivec2 size) {
    return texelFetch(u_source, clamp(p, ivec2(0), size - 1), 0).rgb;
}

void main() {
    ivec2 size = textureSize(u_source, 0);
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 gx = (at(p + ivec2(1, -1), size) + 2.0 * at(p + ivec2(1, 0), size) + at(p + ivec2(1, 1), size)
             - at(p + ivec2(-1, -1), size) - 2.0 * at(p + ivec2(-1, 0), size) - at(p + ivec2(-1, 1), size)) / 4.0;
    vec3 gy = (at(p + ivec2(-1, 1), size) + 2.0 * at(p + ivec2(0, 1), size) + at(p + ivec2(1, 1), size)
             - at(p + ivec2(-1, -1), size) - 2.0 * at(p + ivec2(0, -1), size) - at(p + ivec2(1, -1), size)) / 4.0;
    f_tensor = vec4(dot(gx, gx), dot(gx, gy), dot(gy, gy), 1.0);
}
#endif
