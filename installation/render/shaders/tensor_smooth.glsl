// Second Kuwahara pass: Gaussian-smoothed structure tensor -> local orientation and anisotropy.
// Output: xy = unit tangent (along edges, the direction of least change), z = anisotropy A in [0, 1].
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
uniform sampler2D u_tensor;
uniform float u_sigma;
out vec4 f_orientation;

void main() {
    ivec2 size = textureSize(u_tensor, 0);
    ivec2 p = ivec2(gl_FragCoord.xy);
    int r = int(ceil(2.0 * u_sigma));
    vec3 sum = vec3(0.0);
    float weight = 0.0;
    for (int j = -r; j <= r; ++j) {
        for (int i = -r; i <= r; ++i) {
            float w = exp(-float(i * i + j * j) / (2.0 * u_sigma * u_sigma));
            sum += w * texelFetch(u_tensor, clamp(p + ivec2(i, j), ivec2(0), size - 1), 0).xyz;
            weight += w;
        }
    }
    vec3 efg = sum / weight;
    float e = efg.x, f = efg.y, g = efg.z;
    float root = sqrt((e - g) * (e - g) + 4.0 * f * f);
    float l1 = 0.5 * (e + g + root);
    float l2 = 0.5 * (e + g - root);
    // Eigenvector of the smaller eigenvalue: the edge tangent. Either row of (T - l2 I) gives it; take the
    // longer one so a vanishing off-diagonal term does not collapse it.
    vec2 ta = vec2(l2 - g, f);
    vec2 tb = vec2(f, l2 - e);
    vec2 t = dot(ta, ta) > dot(tb, tb) ? ta : tb;
    float len = length(t);
    t = len > 1e-12 ? t / len : vec2(1.0, 0.0);
    float a = (l1 + l2) > 1e-12 ? (l1 - l2) / (l1 + l2) : 0.0;
    f_orientation = vec4(t, a, 1.0);
}
#endif
