// crossfade: a plain mix of the two images.
vec4 transition_crossfade(vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params) {
    return mix(a, b, progress);
}
