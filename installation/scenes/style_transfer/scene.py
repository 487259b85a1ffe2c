"""``style_transfer``: a live style mirror. A camera (or video file, stream, image folder) repainted in the style
of one painting, or of each painting of a folder in turn, morphing from one style to the next.

Threads: capture (newest frame only, installation/capture) -> the stylize worker (ONNX Runtime, its own
thread, :mod:`~installation.scenes.style_transfer.worker`) -> the scene on the GL thread, which only takes
finished frames and never waits for the model. Smooth motion at a low model rate: each new stylized frame
fades in from the one before over the measured time between frames (one frame of extra latency, no
stutter). What show time decides, and nothing else: the style (:func:`~.schedule.style_at`), the blend
between the last two frames (from the show time each arrived), the live/attract crossfade.

No frame for ``absent_after`` seconds (no camera, a camera unplugged, a model that fails): the attract
picture (``attract: style``: the current style painting; ``last``: the last stylized frame stays;
``background``) until frames come again. Models missing or broken: the picture is shown unstylized.

An offline render (``env.offline``) of a video file or image folder is repeatable instead: no threads, the
picture is a function of cue time (:meth:`StyleTransferScene._follow_show_time`). Cameras and streams play as
live even offline (what they show depends on when frames arrive), so those renders are not repeatable.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import moderngl
import numpy as np

from installation import faults
from installation.easing import ease
from installation.render.color import to_unit
from installation.render.post import PostChain
from installation.render.programs import load_program, set_uniforms
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.mix import SHADER_DIR, SceneSlot
from installation.scenes.style_transfer.params import StyleTransferParams
from installation.scenes.style_transfer.schedule import StyleMix, style_at
from installation.scenes.style_transfer.worker import StyleWorker

log = logging.getLogger(__name__)

MIN_PERIOD, MAX_PERIOD = 1 / 120, 2.0  # bounds of the blend between two frames, seconds
KEY_EPSILON = 1e-6  # seconds: cue time t_k (up to rounding) is keyframe k's, not k - 1's


def fit_scale(texture: tuple[int, int], target: tuple[int, int], fit: str) -> tuple[float, float]:
    """Screen uv -> texture uv scale about the centre, so the texture covers or is contained in the target."""
    ta, sa = texture[0] / max(texture[1], 1), target[0] / max(target[1], 1)
    wider = ta > sa
    if fit == "cover":
        return (sa / ta, 1.0) if wider else (1.0, ta / sa)
    return (1.0, ta / sa) if wider else (sa / ta, 1.0)


class StyleTransferScene(Scene):
    """The style mirror. ``stylizer``, ``capture`` and ``worker`` may be injected (tests, benchmarks); by default
    the scene loads the show's models and opens its camera when it starts playing. A ``capture`` with
    ``frame_at(t)`` (:class:`~installation.capture.TimedReader`, what an offline render of a file gets) makes
    the scene :attr:`repeatable`."""

    def __init__(self, env: SceneEnv, params: StyleTransferParams, *, stylizer: Any = None, capture: Any = None,
                 worker: StyleWorker | None = None) -> None:
        super().__init__(env, params)
        self.program = load_program(env.ctx, "style_transfer", search_path=(SHADER_DIR,))
        self.vao = env.ctx.vertex_array(self.program, [])
        self.styles = params.style_files()
        self.fallback: str | None = None  # why the picture is shown unstylized
        self._live: list[moderngl.Texture] = []
        self._paintings: dict[int, moderngl.Texture] = {}
        self._arrived: float | None = None  # show time the newest frame was taken
        self._period = 0.1  # measured show time between frames (the blend's length)
        self._mode = "attract"
        self._mode_since = 0.0
        self._attract_from = 1.0  # the attract amount when the mode last changed
        self._camera_state = "none"
        self._slot: SceneSlot | None = None
        self._post = PostChain(env.ctx, env.post) if not env.post.is_identity else None
        self.frames_shown = 0
        self._keyframes: dict[int, np.ndarray | None] = {}  # repeatable: stylized frames by time index k
        self._key: int | None = None  # repeatable: _live holds keyframes _key and _key + 1
        self._owns_capture = capture is None and worker is None
        self._owns_worker = worker is None
        self.capture = capture
        if worker is None:
            if stylizer is None:
                stylizer = self._load_models()
            if self.capture is None:
                self.capture = self._open_camera()
            worker = StyleWorker(stylizer, self.capture, self.styles, strength=params.strength,
                                 max_fps=params.max_fps)
            if not self.repeatable:  # repeatable: the scene runs the worker's code itself (_follow_show_time)
                worker.start()
        self.worker = worker
        if self.capture is None:
            self.capture = getattr(worker, "capture", None)

    def _load_models(self) -> Any:
        from installation.inference.contract import ModelContractError
        from installation.inference.stylizer import Stylizer
        from installation.pack import pack_path

        p = self.params
        try:
            return Stylizer(pack_path("stylizer", p.models), pack_path("style_predictor", p.models))
        except ModelContractError as exc:
            reason = " ".join(str(exc).split())
            log.error("cue %s: the style mirror cannot load its models (%s); showing the picture unstylized",
                      self.env.cue_id, reason)
            faults.report("model", f"cue {self.env.cue_id}: style transfer unstylized: {reason}")
            self.fallback = reason
            return None

    def _open_camera(self) -> Any:
        import cv2

        from installation.capture import CaptureThread, TimedReader, open_source

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # retries are logged by the capture
        p = self.params
        source = open_source(p.camera, loop=p.loop, fps=p.fps)
        if self.env.offline and not source.live:  # a file in an offline render: frames by cue time
            return TimedReader(source)
        return CaptureThread(source, pace=True).start()

    # ---- time ------------------------------------------------------------------------------------------------

    def style(self, t: float) -> StyleMix:
        """The style at cue time ``t`` (a pure function of ``t`` and the parameters)."""
        p = self.params
        return style_at(t, len(self.styles), p.style_seconds, p.style_transition)

    @property
    def repeatable(self) -> bool:
        """Whether the picture is a function of cue time (an offline render of a video file or image folder)."""
        return callable(getattr(self.capture, "frame_at", None))

    @property
    def mode(self) -> str:
        """``live`` (stylized frames arrive) or ``attract``."""
        return self._mode

    def on_frame(self, t: float, dt: float) -> None:
        super().on_frame(t, dt)
        if self.repeatable:
            self._follow_show_time(t)
        else:  # live: never waits; the newest stylized frame, whenever the worker has one
            self.worker.set_style(self.style(t))
            frame = self.worker.take()
            if frame is not None:
                self._show(frame.image, t)
        fresh = self._arrived is not None and t - self._arrived <= self.params.absent_after
        self._set_mode("live" if fresh else "attract", t)
        self._watch_faults()

    def _show(self, image: np.ndarray, t: float) -> None:
        """A new stylized frame: the newest becomes the one before, the new one fades in (GL thread)."""
        h, w = image.shape[:2]
        if not self._live or self._live[0].size != (w, h):
            self._new_live_textures(image)
        else:
            self._live.reverse()
            self._live[1].write(np.ascontiguousarray(image).tobytes())
        if self._arrived is not None and t > self._arrived:
            gap = min(max(t - self._arrived, MIN_PERIOD), MAX_PERIOD)
            self._period = gap if self.frames_shown < 2 else 0.7 * self._period + 0.3 * gap
        self._arrived = t
        self.frames_shown += 1

    def _new_live_textures(self, image: np.ndarray) -> None:
        """The two live textures at ``image``'s size, both holding it."""
        h, w = image.shape[:2]
        for tex in self._live:
            tex.release()
        self._live = [self.env.ctx.texture((w, h), 3, np.ascontiguousarray(image).tobytes()) for _ in range(2)]
        for tex in self._live:
            tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
            tex.repeat_x = tex.repeat_y = False

    # Repeatable (an offline render of a file): stylized frames are made at the quantised cue times
    # t_k = k / max_fps ("keyframes"), each from the source's frame for t_k (TimedReader) in the style of t_k;
    # at cue time t the picture blends keyframe k = floor(t * max_fps) into k + 1 by (t - t_k) * max_fps, as
    # latent_walk blends its keyframes. So every pixel depends on t and the files only.
    # Why synchronously, on this (the render) thread, rather than through the worker with a wait like
    # latent_walk's: an offline render has no display to keep fluid, so a frame may take as long as its
    # stylization (one model run, ~0.1 s, at most two per frame); the worker's code does it (style vectors,
    # strength, unreadable paintings) without its thread, so there is nothing to hand over, no wait to time
    # out and no race for the newest frame. ONNX Runtime only, as live. What bounds a frame: those model runs
    # and decoding the source in order up to t; a source that fails or a model run that raises holds the
    # picture (logged by the reader and the worker) and the attract picture follows after absent_after.

    def _follow_show_time(self, t: float) -> None:
        rate = self.params.max_fps
        k = math.floor((t + KEY_EPSILON) * rate)
        if k == self._key:
            return
        first = self._keyframe(k)
        for j in [j for j in self._keyframes if j not in (k, k + 1)]:
            del self._keyframes[j]
        if first is None:  # no frame for t_k (the source failed) or the model failed on it: hold
            return
        second = self._keyframe(k + 1) if self.params.smooth else None
        if second is None or second.shape != first.shape:  # no blend: smooth off, the source failed or resized
            second = first
        if not self._live or self._live[0].size != (first.shape[1], first.shape[0]):
            self._new_live_textures(first)
        for tex, image in zip(self._live, (first, second)):
            tex.write(np.ascontiguousarray(image).tobytes())
        self._key, self._arrived, self._period = k, k / rate, 1.0 / rate  # live_mix: (t - t_k) * max_fps
        self.frames_shown += 1

    def _keyframe(self, k: int) -> np.ndarray | None:
        """The source's frame for t_k stylized in the style of t_k (None: none; remembered either way)."""
        if k not in self._keyframes:
            t_k = k / self.params.max_fps
            frame = self.capture.frame_at(t_k)
            done = self.worker.stylize(frame, self.style(t_k)) if frame is not None else None
            self._keyframes[k] = done.image if done is not None else None
        return self._keyframes[k]

    def live_mix(self, t: float) -> float:
        """How far the newest frame has faded in over the one before (1 with ``smooth: false``)."""
        if not self.params.smooth or self._arrived is None:
            return 1.0
        return float(np.clip((t - self._arrived) / self._period, 0.0, 1.0))

    def _set_mode(self, mode: str, t: float) -> None:
        if mode != self._mode:
            self._attract_from = self.attract_amount(t)
            self._mode, self._mode_since = mode, t

    def attract_amount(self, t: float) -> float:
        """0: the live picture, 1: the attract picture; crossfading over ``attract_transition`` seconds."""
        target = 1.0 if self._mode == "attract" else 0.0
        if self.params.attract == "last" and self._live:
            target = 0.0  # the last frame stays
        seconds = self.params.attract_transition
        progress = 1.0 if seconds <= 0 else ease("ease_in_out", min(1.0, (t - self._mode_since) / seconds))
        return self._attract_from + (target - self._attract_from) * progress

    # ---- faults ----------------------------------------------------------------------------------------------

    def camera_health(self) -> dict[str, Any]:
        capture = self.capture
        if capture is None or not hasattr(capture, "stats"):
            return {"state": "none"}
        stats = capture.stats
        state = {"connected": "ok", "connecting": "starting"}.get(capture.state, "absent")
        if capture.state == "reconnecting" and stats.frames > 0:
            state = "retrying"
        return {"state": state, "source": capture.source.name, "frames": stats.frames,
                "reconnects": stats.reconnects, "last_error": stats.last_error or None}

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {"camera": self.camera_health()}
        if self.fallback:
            out["fallback"] = self.fallback
        return out

    def _watch_faults(self) -> None:
        camera = self.camera_health()
        state = camera["state"]
        if state != self._camera_state:
            cue, source = self.env.cue_id, camera.get("source")
            if state in ("retrying", "absent") and self._camera_state in ("none", "ok", "starting"):
                faults.report("camera", f"cue {cue}: camera {source} {'lost' if state == 'retrying' else 'absent'} "
                              f"({camera.get('last_error') or 'no frames'}); the attract picture plays"
                              f"{'' if self.repeatable else ', retrying'}")
            elif state == "ok" and self._camera_state in ("retrying", "absent"):
                faults.report("camera", f"cue {cue}: camera {source} is back", "info")
            self._camera_state = state

    @property
    def stats(self) -> dict[str, Any]:
        """For the status overlay and the kiosk."""
        w = self.worker
        out: dict[str, Any] = {"mode": self._mode, "frames_shown": self.frames_shown,
                               "stylized": getattr(w, "frames", 0), "errors": getattr(w, "errors", 0),
                               "model_ms": round(getattr(w, "busy_seconds", 0.0) * 1e3, 1),
                               "style": self.style(self.t).b}
        capture = self.capture
        if capture is not None and hasattr(capture, "stats"):
            out["camera"] = capture.state
            out.update({f"capture_{k}": v for k, v in capture.stats.to_json().items()})
        return out

    # ---- pixels ----------------------------------------------------------------------------------------------

    def _painting(self, index: int) -> moderngl.Texture | None:
        tex = self._paintings.get(index)
        if tex is not None:
            return tex
        image = self.worker.painting(index, now=self.repeatable)  # repeatable: no worker thread to load it
        if image is None:
            return None
        if len(self._paintings) >= 3:  # the two on screen and one more
            oldest = next(iter(self._paintings))
            self._paintings.pop(oldest).release()
        h, w = image.shape[:2]
        tex = self.env.ctx.texture((w, h), 3, np.ascontiguousarray(image).tobytes())
        tex.build_mipmaps()
        tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self._paintings[index] = tex
        return tex

    def _draw(self, fbo: moderngl.Framebuffer) -> None:
        t, p = self.t, self.params
        size = self.env.size
        attract = self.attract_amount(t)
        mix = self.style(t)
        paint0 = paint1 = None
        if p.attract == "style" and self.styles:
            paint1 = self._painting(mix.b)
            paint0 = self._painting(mix.a) if not mix.settled else paint1
            if paint0 is None:  # the painting before is not loaded (yet): show the current one alone
                paint0 = paint1
        units: dict[str, moderngl.Texture] = {}
        if self._live:
            units["u_live0"], units["u_live1"] = self._live
        if paint1 is not None and paint0 is not None:
            units["u_paint0"], units["u_paint1"] = paint0, paint1
        fbo.use()
        self.env.ctx.disable(moderngl.BLEND)
        for unit, (name, tex) in enumerate(units.items()):
            tex.use(unit)
            set_uniforms(self.program, **{name: unit})
        live_size = self._live[0].size if self._live else size
        set_uniforms(
            self.program,
            u_live_scale=fit_scale(live_size, size, p.fit),
            u_paint0_scale=fit_scale(paint0.size if paint0 else size, size, "contain"),
            u_paint1_scale=fit_scale(paint1.size if paint1 else size, size, "contain"),
            u_live_mix=self.live_mix(t), u_paint_mix=0.0 if mix.settled else float(mix.weight),
            u_attract=float(attract), u_has_live=1.0 if self._live else 0.0,
            u_has_paint=1.0 if "u_paint1" in units else 0.0, u_flip=1.0 if p.mirror else 0.0,
            u_background=to_unit(self.env.background),
        )
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def render(self, fbo: moderngl.Framebuffer) -> None:
        if self._post is None:
            self._draw(fbo)
            return
        if self._slot is None:
            self._slot = SceneSlot(self.env.ctx, self.env.size)
        self._draw(self._slot.fbo)
        self._post.apply(self._slot.texture, fbo)

    def release(self) -> None:
        if self._owns_worker:
            self.worker.stop()
        if self._owns_capture and self.capture is not None:
            self.capture.stop()
        for tex in (*self._live, *self._paintings.values()):
            tex.release()
        self._live, self._paintings = [], {}
        for obj in (self._slot, self._post):
            if obj is not None:
                obj.release()
        self.vao.release()
        self.program.release()


__all__ = ["StyleTransferScene", "fit_scale"]
