// wipe: a soft-edged line sweeps across the cell.
// params.xy: unit direction of travel (screen space, +y down), params.z: edge softness (fraction of the cell).
vec4 transition_wipe(vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params) {
    vec2 dir = params.xy;
    float soft = max(params.z, 1e-4);
    // Position along the direction, 0 where the wipe enters the cell, 1 where it leaves.
    float reach = 0.5 * (abs(dir.x) + abs(dir.y));
    float s = dot(uv - 0.5, dir) / max(reach, 1e-6) * 0.5 + 0.5;
    // The front runs from -soft to 1 + soft so that progress 0 and 1 are exactly a and b.
    float front = progress * (1.0 + 2.0 * soft) - soft;
    return mix(a, b, 1.0 - smoothstep(front - soft, front + soft, s));
}
