// A textured rectangle in pixel coordinates (top-left origin), alpha-blended: the status overlay.
#if defined VERTEX_SHADER
uniform vec4 u_rect;    // x, y, width, height in pixels
uniform vec2 u_target;  // framebuffer size
out vec2 v_uv;

void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    vec2 pixel = u_rect.xy + corner * u_rect.zw;
    // The texture's row 0 is the text image's top row.
    v_uv = corner;
    gl_Position = vec4(pixel.x / u_target.x * 2.0 - 1.0, 1.0 - pixel.y / u_target.y * 2.0, 0.0, 1.0);
}
#elif defined FRAGMENT_SHADER
uniform sampler2D u_source;
in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = texture(u_source, v_uv);
}
#endif
