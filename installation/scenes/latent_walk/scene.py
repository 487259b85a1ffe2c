"""``latent_walk``: the generator's space walked continuously (see :mod:`installation.scenes.latent_walk.walk`).

The :class:`KeyframeWorker` renders keyframes (generator -> upscaler, ONNX Runtime) ahead of the display on
its own thread; on the GL thread each keyframe becomes a texture (the cue's post chain baked in once) and
the display blends the two keyframes around cue time ``t`` in one pass, at display rate. The picture is a
function of ``t`` whenever both keyframes are ready; when one is late the scene holds the newest keyframe it
has (never waits: ``holds`` counts those frames) and is exact again as soon as it arrives.
"""

from __future__ import annotations

import logging
from typing import Any

import moderngl
import numpy as np

from installation import faults
from installation.render import PostChain
from installation.render.color import to_unit
from installation.render.programs import load_program, set_uniforms
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.latent_walk.params import LatentWalkParams
from installation.scenes.latent_walk.walk import WalkPlan
from installation.scenes.latent_walk.worker import KeyframeWorker
from installation.scenes.mix import SHADER_DIR

log = logging.getLogger(__name__)

OFFLINE_WAIT = 60.0  # seconds an offline render's frame may wait for its keyframes (then it holds, logged)


def load_models(params: LatentWalkParams, threads: int | None = None) -> tuple[Any, Any]:
    """(generator, upscaler or None) from the show's model folder or the bundled pack; a missing or broken
    upscaler is left out (logged), a broken generator raises ModelContractError."""
    from installation.inference.contract import ModelContractError
    from installation.inference.generator import Generator, Upscaler
    from installation.pack import pack_path

    generator = Generator(pack_path("generator", params.models), threads=threads)
    upscaler = None
    path = pack_path("upscaler", params.models)
    if params.upscale and path.is_file():
        try:
            upscaler = Upscaler(path, threads=threads)
        except ModelContractError as exc:
            log.warning("%s; the latent walk plays at the generator's resolution", exc)
    return generator, upscaler


def make_plan(params: LatentWalkParams, generator: Any) -> WalkPlan:
    return WalkPlan(tuple(generator.classes), tuple(params.styles or generator.classes), generator.latent_dim,
                    params.seed, params.seconds_per_step, params.blend_seconds, tuple(params.shares), params.easing)


def fit_rect(image: tuple[int, int], target: tuple[int, int], fit: str) -> tuple[float, float, float, float]:
    """The picture's place (x0, y0, width, height) in target uv for ``contain`` or ``cover``."""
    (iw, ih), (tw, th) = image, target
    scale = (min if fit == "contain" else max)(tw / iw, th / ih)
    w, h = iw * scale / tw, ih * scale / th
    return (1 - w) / 2, (1 - h) / 2, w, h


class LatentWalkScene(Scene):
    """The walk. ``models`` = (generator, upscaler or None) may be injected (tests, benchmarks). ``wait``: the
    longest a frame may wait for its keyframes; None: never live, up to OFFLINE_WAIT seconds in an offline
    render (``env.offline``), so a rendered video is the same on every run."""

    def __init__(self, env: SceneEnv, params: LatentWalkParams, *, models: tuple[Any, Any] | None = None,
                 wait: float | None = None) -> None:
        super().__init__(env, params)
        self.wait = float(wait) if wait is not None else (OFFLINE_WAIT if env.offline else 0.0)
        self.holds = 0  # frames drawn with a keyframe missing (held the newest one there was)
        self.fallback: str | None = None
        self.worker: KeyframeWorker | None = None
        self.plan: WalkPlan | None = None
        self._textures: dict[int, moderngl.Texture] = {}
        self._shown: tuple[int, int, float] = (-1, -1, 0.0)  # (key a, key b or -1, alpha) of the last frame
        self._post = PostChain(env.ctx, env.post) if not env.post.is_identity else None
        self._program = load_program(env.ctx, "latent_walk", search_path=(SHADER_DIR,))
        self._vao = env.ctx.vertex_array(self._program, [])
        try:
            generator, upscaler = models if models is not None else load_models(params)
            self.plan = make_plan(params, generator)
            self.worker = KeyframeWorker(self.plan, generator, upscaler, params.batch)
        except Exception as exc:  # no models, unknown style: the show goes on with the background
            reason = " ".join(str(exc).split()) or type(exc).__name__
            log.error("cue %s: the latent walk cannot start (%s); showing the background", env.cue_id, reason)
            faults.report("model", f"cue {env.cue_id}: latent walk fallback (background): {reason}")
            self.fallback = reason

    # ---- time ------------------------------------------------------------------------------------------

    def on_frame(self, t: float, dt: float) -> None:
        super().on_frame(t, dt)
        if self.worker is None or self.plan is None:
            return
        k, alpha = self.plan.locate(t)
        self.worker.want(k, k + 1 + self.params.ahead_keyframes)
        if self.wait > 0:
            self.worker.wait([k, k + 1], self.wait)
        for key in (k, k + 1):
            if key not in self._textures and (image := self.worker.take(key)) is not None:
                self._textures[key] = self._upload(image)
        if k in self._textures and k + 1 in self._textures:
            self._shown = (k, k + 1, alpha)
        else:
            self.holds += 1
            held = [key for key in self._textures if key <= k]
            self._shown = (max(held), -1, 0.0) if held else (-1, -1, 0.0)
        keep = {self._shown[0], self._shown[1], k, k + 1}
        for key in [key for key in self._textures if key not in keep]:
            self._textures.pop(key).release()

    def _upload(self, image: np.ndarray) -> moderngl.Texture:
        """A keyframe as a texture, the cue's post chain baked in (once per keyframe, not per frame)."""
        ctx = self.env.ctx
        h, w = image.shape[:2]
        raw = ctx.texture((w, h), 3, np.ascontiguousarray(image).tobytes(), alignment=1)
        if self._post is None:
            texture = raw
        else:
            texture = ctx.texture((w, h), 4)
            fbo = ctx.framebuffer([texture])
            self._post.apply(raw, fbo)
            fbo.release()
            raw.release()
        texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        texture.repeat_x = texture.repeat_y = False
        return texture

    @property
    def exact(self) -> bool:
        """Whether the last frame showed exactly the walk at its time (both keyframes were ready)."""
        return self._shown[1] >= 0

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.fallback is not None:
            out["fallback"] = self.fallback
        if self.worker is not None and self.worker.errors:
            out["keyframe_errors"] = self.worker.errors
        return out

    @property
    def stats(self) -> dict[str, Any]:
        worker = self.worker
        out: dict[str, Any] = {"holds": self.holds, "exact": self.exact}
        if worker is not None and worker.batches:
            out["keyframes_per_s"] = worker.batches * worker.batch / max(worker.seconds, 1e-9)
        return out

    # ---- pixels ----------------------------------------------------------------------------------------

    def render(self, fbo: moderngl.Framebuffer) -> None:
        a, b, alpha = self._shown
        self.env.ctx.disable(moderngl.BLEND)
        fbo.use()
        count = 0 if a < 0 else (2 if b >= 0 else 1)
        if count:
            texture = self._textures[a]
            texture.use(0)
            self._textures[b if b >= 0 else a].use(1)
            rect = fit_rect(texture.size, fbo.size, self.params.fit)
        else:
            rect = (0.0, 0.0, 1.0, 1.0)
        set_uniforms(self._program, u_a=0, u_b=1, u_alpha=float(alpha), u_count=count, u_rect=rect,
                     u_background=to_unit(self.env.background))
        self._vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        for texture in self._textures.values():
            texture.release()
        self._textures.clear()
        self._vao.release()
        self._program.release()
        if self._post is not None:
            self._post.release()
