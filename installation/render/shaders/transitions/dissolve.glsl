// dissolve, after "permeation": the new colour seeps into the cell from a seeded spot along an fbm
// front, like pigment diffusing through wet paper. Deterministic in the seed.
// params.x: noise scale (cells of noise across the cell), params.y: edge softness,
// params.z: how much the front follows distance from the spot (0 = pure noise, 1 = a clean circle).
#include "lib/noise.glsl"

vec4 transition_dissolve(vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params) {
    uint s = uint(seed);
    float noise = fbm(uv * params.x, s, 5);
    vec2 spot = vec2(hash_cell(ivec2(7, 3), s), hash_cell(ivec2(11, 5), s));
    // Farthest corner from the spot, so distance normalises to [0, 1].
    vec2 far = max(spot, 1.0 - spot);
    float dist = length(uv - spot) / length(far);
    float field = clamp(mix(noise, dist, params.z), 0.0, 1.0);
    float soft = max(params.y, 1e-4);
    float front = progress * (1.0 + 2.0 * soft) - soft;
    float t = 1.0 - smoothstep(field - soft, field + soft, front);
    return mix(b, a, t);
}
