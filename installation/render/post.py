"""Post-processing in shaders: an anisotropic Kuwahara painterly filter and colour grading.

The compositor bakes the chain into each cell's texture layer when the image is uploaded, so the
per-frame cost stays that of drawing a plain texture and incremental redraw stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import moderngl

from installation.render.color import ColorLike, parse_color, to_unit
from installation.render.programs import load_program, set_uniforms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KuwaharaSettings:
    """Anisotropic Kuwahara: ``radius`` in layer pixels, sharpness ``q`` (higher keeps edges crisper),
    ``alpha`` (lower stretches the filter ellipse more along edges), ``sigma`` smoothing of the tensor."""

    radius: float = 4.0
    q: float = 8.0
    alpha: float = 1.0
    sigma: float = 2.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.radius <= 16.0:
            raise ValueError(f"kuwahara radius {self.radius}: expected 0.5..16")
        if not 1.0 <= self.q <= 12.0:
            raise ValueError(f"kuwahara q {self.q}: expected 1..12")
        if not 0.05 <= self.alpha <= 10.0:
            raise ValueError(f"kuwahara alpha {self.alpha}: expected 0.05..10")
        if not 0.5 <= self.sigma <= 6.0:
            raise ValueError(f"kuwahara sigma {self.sigma}: expected 0.5..6")


@dataclass(frozen=True)
class GradeSettings:
    """Colour grade: ``exposure`` in stops, ``saturation`` (0 gray, 1 as is), ``tint`` colour and
    ``tint_amount`` (0 none, 1 full)."""

    exposure: float = 0.0
    saturation: float = 1.0
    tint: ColorLike = (255, 255, 255)
    tint_amount: float = 0.0

    def __post_init__(self) -> None:
        if not -8.0 <= self.exposure <= 8.0:
            raise ValueError(f"grade exposure {self.exposure}: expected -8..8 stops")
        if not 0.0 <= self.saturation <= 4.0:
            raise ValueError(f"grade saturation {self.saturation}: expected 0..4")
        if not 0.0 <= self.tint_amount <= 1.0:
            raise ValueError(f"grade tint_amount {self.tint_amount}: expected 0..1")
        object.__setattr__(self, "tint", parse_color(self.tint))

    @property
    def is_identity(self) -> bool:
        return self.exposure == 0.0 and self.saturation == 1.0 and self.tint_amount == 0.0


@dataclass(frozen=True)
class PostSettings:
    """The chain, in order: Kuwahara then grade; None skips a stage."""

    kuwahara: KuwaharaSettings | None = None
    grade: GradeSettings | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> PostSettings:
        """From a show script's ``post:`` mapping, e.g. ``{"kuwahara": {"radius": 4}, "grade": {...}}``."""
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown post stage(s): {', '.join(sorted(unknown))}; expected kuwahara, grade")
        kuwahara = data.get("kuwahara")
        grade = data.get("grade")
        return cls(
            kuwahara=None if kuwahara is None else KuwaharaSettings(**kuwahara),
            grade=None if grade is None else GradeSettings(**grade),
        )

    @property
    def is_identity(self) -> bool:
        return self.kuwahara is None and (self.grade is None or self.grade.is_identity)


@dataclass
class _Targets:
    tensor: moderngl.Framebuffer
    orientation: moderngl.Framebuffer
    painted: moderngl.Framebuffer
    textures: list[moderngl.Texture] = field(default_factory=list)


class PostChain:
    """Runs :class:`PostSettings` on a texture into a framebuffer of the same size (GL thread only)."""

    def __init__(self, ctx: moderngl.Context, settings: PostSettings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings or PostSettings()
        self._programs: dict[str, moderngl.Program] = {}
        self._vaos: dict[str, moderngl.VertexArray] = {}
        self._targets: dict[tuple[int, int], _Targets] = {}

    def _pass(self, name: str) -> tuple[moderngl.Program, moderngl.VertexArray]:
        if name not in self._programs:
            self._programs[name] = load_program(self.ctx, name)
            self._vaos[name] = self.ctx.vertex_array(self._programs[name], [])
        return self._programs[name], self._vaos[name]

    def _targets_for(self, size: tuple[int, int]) -> _Targets:
        if size not in self._targets:
            # Tensor and orientation need sign and range beyond 8 bits.
            tensor = self.ctx.texture(size, 4, dtype="f4")
            orientation = self.ctx.texture(size, 4, dtype="f4")
            painted = self.ctx.texture(size, 4)
            for tex in (tensor, orientation, painted):
                tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
                tex.repeat_x = tex.repeat_y = False
            self._targets[size] = _Targets(
                self.ctx.framebuffer([tensor]),
                self.ctx.framebuffer([orientation]),
                self.ctx.framebuffer([painted]),
                [tensor, orientation, painted],
            )
        return self._targets[size]

    def _run(
        self, name: str, target: moderngl.Framebuffer, inputs: Mapping[str, moderngl.Texture], **uniforms: Any
    ) -> None:
        program, vao = self._pass(name)
        target.use()
        for unit, (uniform, texture) in enumerate(inputs.items()):
            texture.use(unit)
            set_uniforms(program, **{uniform: unit})
        set_uniforms(program, **uniforms)
        vao.render(moderngl.TRIANGLES, vertices=3)

    def apply(self, source: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        """Render ``source`` through the chain into ``target`` (same size; an identity chain copies)."""
        self.ctx.disable(moderngl.BLEND)
        current = source
        k = self.settings.kuwahara
        if k is not None:
            t = self._targets_for(source.size)
            self._run("structure_tensor", t.tensor, {"u_source": current})
            self._run("tensor_smooth", t.orientation, {"u_tensor": t.textures[0]}, u_sigma=float(k.sigma))
            painted_target = t.painted if self.settings.grade is not None else target
            self._run(
                "kuwahara",
                painted_target,
                {"u_source": current, "u_orientation": t.textures[1]},
                u_radius=float(k.radius),
                u_q=float(k.q),
                u_alpha=float(k.alpha),
            )
            if self.settings.grade is None:
                return
            current = t.textures[2]
        g = self.settings.grade
        if g is not None:
            self._run(
                "grade",
                target,
                {"u_source": current},
                u_exposure=float(g.exposure),
                u_saturation=float(g.saturation),
                u_tint=to_unit(g.tint),  # type: ignore[arg-type]
                u_tint_amount=float(g.tint_amount),
            )
        elif k is None:
            self._run("blit", target, {"u_source": current})

    def release(self) -> None:
        for t in self._targets.values():
            for fbo in (t.tensor, t.orientation, t.painted):
                fbo.release()
            for tex in t.textures:
                tex.release()
        for vao in self._vaos.values():
            vao.release()
        for program in self._programs.values():
            program.release()
        self._targets.clear()
        self._vaos.clear()
        self._programs.clear()
