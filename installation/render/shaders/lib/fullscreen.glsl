// Vertex stage shared by full-screen passes: one oversized triangle, no vertex buffer.
// v_uv is (0,0) at texel row 0 of the render target, so a pass maps texel rows one to one.
out vec2 v_uv;

void main() {
    vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
