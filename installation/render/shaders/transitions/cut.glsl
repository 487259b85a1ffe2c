// cut: the new image replaces the old one at the midpoint (with seconds = 0, at once).
vec4 transition_cut(vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params) {
    return progress < 0.5 ? a : b;
}
