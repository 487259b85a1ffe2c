// Third Kuwahara pass: the anisotropic Kuwahara filter. Around each pixel an ellipse is laid along the
// local edge tangent (elongated where the structure is anisotropic), split into N overlapping angular
// sectors with smooth weights. Each sector gives a mean and a variance; the output blends the sector
// means with weights 1 / (1 + sigma^q), so the sectors that do not straddle an edge dominate. Flat
// areas stay flat, noise is averaged away, and edges stay sharp: soft images read as brushwork.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
const int N = 8;
const float PI = 3.14159265358979;

uniform sampler2D u_source;
uniform sampler2D u_orientation;  // xy tangent, z anisotropy (tensor_smooth.glsl)
uniform float u_radius;           // pixels
uniform float u_q;                // sharpness
uniform float u_alpha;            // how strongly anisotropy stretches the ellipse
out vec4 f_color;

void main() {
    ivec2 size = textureSize(u_source, 0);
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 o = texelFetch(u_orientation, p, 0).xyz;
    vec2 t = o.xy;
    vec2 n = vec2(-t.y, t.x);
    float a = u_radius * (u_alpha + o.z) / u_alpha;
    float b = u_radius * u_alpha / (u_alpha + o.z);
    // Half extents of the rotated ellipse's bounding box.
    int hx = int(ceil(sqrt(a * a * t.x * t.x + b * b * t.y * t.y)));
    int hy = int(ceil(sqrt(a * a * t.y * t.y + b * b * t.x * t.x)));

    vec3 sector_dir[N];  // unused third component keeps the array layout simple
    for (int k = 0; k < N; ++k) {
        float angle = 2.0 * PI * float(k) / float(N);
        sector_dir[k] = vec3(cos(angle), sin(angle), 0.0);
    }
    // Each sector's weight falls from 1 on its axis to 0 at the neighbouring axes: overlapping lobes that
    // cover every direction.
    float support = cos(2.0 * PI / float(N));

    vec3 mean[N];
    vec3 square[N];
    float weight[N];
    for (int k = 0; k < N; ++k) {
        mean[k] = vec3(0.0);
        square[k] = vec3(0.0);
        weight[k] = 0.0;
    }

    for (int j = -hy; j <= hy; ++j) {
        for (int i = -hx; i <= hx; ++i) {
            vec2 d = vec2(float(i), float(j));
            vec2 u = vec2(dot(d, t) / a, dot(d, n) / b);
            float r2 = dot(u, u);
            if (r2 > 1.0) {
                continue;
            }
            vec3 c = texelFetch(u_source, clamp(p + ivec2(i, j), ivec2(0), size - 1), 0).rgb;
            float radial = exp(-2.0 * r2);
            if (r2 < 1e-8) {
                // The centre belongs to every sector.
                for (int k = 0; k < N; ++k) {
                    mean[k] += radial * c;
                    square[k] += radial * c * c;
                    weight[k] += radial;
                }
                continue;
            }
            vec2 dir = u * inversesqrt(r2);
            for (int k = 0; k < N; ++k) {
                float s = max(0.0, (dot(dir, sector_dir[k].xy) - support) / (1.0 - support));
                float w = radial * s * s;
                mean[k] += w * c;
                square[k] += w * c * c;
                weight[k] += w;
            }
        }
    }

    vec3 result = vec3(0.0);
    float total = 0.0;
    for (int k = 0; k < N; ++k) {
        if (weight[k] <= 0.0) {
            continue;
        }
        vec3 m = mean[k] / weight[k];
        vec3 v = abs(square[k] / weight[k] - m * m);
        // Standard deviation in 8-bit units, capped so sigma^q stays a finite float for q <= 12.
        float sigma = min(sqrt(v.r + v.g + v.b) * 255.0, 1000.0);
        float alpha = 1.0 / (1.0 + pow(sigma, u_q));
        result += alpha * m;
        total += alpha;
    }
    vec3 centre = texelFetch(u_source, p, 0).rgb;
    f_color = vec4(total > 0.0 ? result / total : centre, 1.0);
}
#endif
