// Deterministic value noise and fbm from an integer hash: the same seed gives the same field on every
// GPU (no sin()-based hashing, whose precision differs between drivers).
uint hash_uint(uint x) {
    x ^= x >> 17;
    x *= 0xed5ad4bbu;
    x ^= x >> 11;
    x *= 0xac4c1b51u;
    x ^= x >> 15;
    x *= 0x31848babu;
    x ^= x >> 14;
    return x;
}

float hash_cell(ivec2 p, uint seed) {
    uint h = hash_uint(uint(p.x) + hash_uint(uint(p.y) + hash_uint(seed)));
    return float(h >> 8u) * (1.0 / 16777215.0);
}

float value_noise(vec2 x, uint seed) {
    ivec2 i = ivec2(floor(x));
    vec2 f = fract(x);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = hash_cell(i, seed);
    float b = hash_cell(i + ivec2(1, 0), seed);
    float c = hash_cell(i + ivec2(0, 1), seed);
    float d = hash_cell(i + ivec2(1, 1), seed);
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

// Sum of octaves normalised back to [0, 1].
float fbm(vec2 x, uint seed, int octaves) {
    float sum = 0.0;
    float amplitude = 0.5;
    float total = 0.0;
    for (int i = 0; i < octaves; ++i) {
        sum += amplitude * value_noise(x, seed + uint(i) * 101u);
        total += amplitude;
        x = x * 2.03 + vec2(17.0, 31.0);
        amplitude *= 0.5;
    }
    return clamp(sum / total, 0.0, 1.0);
}
