// The grid: every cell is one instance of a unit quad, drawn in ONE instanced call. Each instance
// carries its rectangle, the two texture-array layers (or colours) it goes from and to, the eased
// progress of its transition and the transition's id, seed and parameters.
#if defined VERTEX_SHADER
in vec2 in_corner;       // unit quad corner, (0,0) = top-left of the cell
in vec4 in_rect;         // x, y, width, height in target pixels, origin top-left
in vec2 in_layers;       // from, to layer; < 0 means "use the colour"
in vec4 in_state;        // eased progress, transition id, seed, unused
in vec4 in_params;       // transition parameters
in vec3 in_from_color;
in vec3 in_to_color;

uniform vec2 u_target;   // target size in pixels

out vec2 v_uv;
flat out vec2 v_layers;
flat out vec4 v_state;
flat out vec4 v_params;
flat out vec3 v_from_color;
flat out vec3 v_to_color;

void main() {
    vec2 pixel = in_rect.xy + in_corner * in_rect.zw;
    gl_Position = vec4(pixel.x / u_target.x * 2.0 - 1.0, 1.0 - pixel.y / u_target.y * 2.0, 0.0, 1.0);
    // Layers store the image's top row at texel row 0, so the cell's top edge samples v = 0.
    v_uv = in_corner;
    v_layers = in_layers;
    v_state = in_state;
    v_params = in_params;
    v_from_color = in_from_color;
    v_to_color = in_to_color;
}

#elif defined FRAGMENT_SHADER
#include "lib/noise.glsl"
#include "lib/color.glsl"

uniform sampler2DArray u_layers;

in vec2 v_uv;
flat in vec2 v_layers;
flat in vec4 v_state;
flat in vec4 v_params;
flat in vec3 v_from_color;
flat in vec3 v_to_color;
out vec4 f_color;

// Generated: every shaders/transitions/<name>.glsl and apply_transition(id, ...) dispatching to them.
#pragma inject transitions

vec4 side(float layer, vec3 color) {
    return layer < 0.0 ? vec4(color, 1.0) : texture(u_layers, vec3(v_uv, layer));
}

void main() {
    vec4 from_color = side(v_layers.x, v_from_color);
    vec4 to_color = side(v_layers.y, v_to_color);
    float progress = v_state.x;
    // Exact endpoints whatever the transition does in between: a finished cell equals its image.
    if (progress <= 0.0) {
        f_color = from_color;
    } else if (progress >= 1.0) {
        f_color = to_color;
    } else {
        f_color = apply_transition(int(v_state.y + 0.5), from_color, to_color, progress, v_uv, v_state.z, v_params);
    }
    f_color.a = 1.0;
}
#endif
