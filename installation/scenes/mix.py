"""Mixing two scene pictures with the renderer's transition shaders (the cue transition)."""

from __future__ import annotations

from pathlib import Path

import moderngl

from installation.render.programs import load_program, set_uniforms
from installation.render.transitions import Transition, dispatch_source

# Scene shaders; the loader searches here first, then the renderer's shaders (lib/noise.glsl, ...).
SHADER_DIR = Path(__file__).resolve().parent / "shaders"


def mix_program(ctx: moderngl.Context) -> moderngl.Program:
    """Compile ``scene_mix.glsl`` with the transition dispatch."""
    return load_program(ctx, "scene_mix", {"transitions": dispatch_source()}, search_path=(SHADER_DIR,))


class SceneSlot:
    """An offscreen RGBA8 picture a scene renders into while it takes part in a transition."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.texture = ctx.texture(size, 4)
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.fbo = ctx.framebuffer([self.texture])

    def release(self) -> None:
        self.fbo.release()
        self.texture.release()


class SceneMixer:
    """Draws ``transition(from, to, progress)`` over a whole framebuffer."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.program = mix_program(ctx)
        self.vao = ctx.vertex_array(self.program, [])

    def draw(self, fbo: moderngl.Framebuffer, source: moderngl.Texture, target: moderngl.Texture,
             transition: Transition, progress: float, seed: int = 0,
             view: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> None:
        """``progress`` is already eased (0 shows ``source``, 1 ``target``). ``view``: where the pictures lie on
        the canvas, (u, v, width, height) from the top-left (a wall viewport's region; the whole canvas by
        default), so that transitions that depend on the position (wipe, dissolve) continue across displays."""
        self.ctx.disable(moderngl.BLEND)
        fbo.use()
        source.use(0)
        target.use(1)
        set_uniforms(self.program, u_from=0, u_to=1, u_progress=float(progress), u_kind=transition.id,
                     u_seed=float(seed % 16_000_000), u_params=transition.params, u_view=view)
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self.vao.release()
        self.program.release()
