"""``emotion_mirror``: a camera sees a visitor's face, the emotion classifier reads it, and the wall paints
an artwork in the style mixture that emotion maps to (after *VAHA*). Nobody there, or no camera: the
attract scene (a Gradual Change given in the show) plays, and the mirror comes back with the next face.

Threads: capture (newest frame only) -> analysis (faces + emotion, ONNX Runtime) -> the scene, on the GL
thread, smooths the emotion against show time (:class:`MirrorState`, a pure function of cue time and the
readings) and orders paintings from the paint worker (generator -> upscaler -> encoder's pick, ONNX
Runtime); finished paintings cross-fade in on a 1x1 :class:`GridCompositor`, whose post chain applies.
Frames and face crops stay in memory: nothing is written to disk or sent anywhere.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2
import moderngl

from installation import faults
from installation.easing import ease
from installation.render import GridCompositor, Transition
from installation.render.color import to_unit
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.emotion_mirror.params import EmotionMirrorParams
from installation.scenes.gradual_change import GradualChangeScene
from installation.scenes.mix import SceneMixer, SceneSlot

log = logging.getLogger(__name__)

STALL_SECONDS = 5.0  # an open camera with no frame for this long counts as lost (a hung driver read)


class MirrorModels:
    """The models the mirror needs, loaded from the show's model folder (or the bundled pack).

    The emotion classifier and the generator are required (a failure raises ModelContractError and the
    scene plays its attract scene). The upscaler and the encoder only refine the paintings: one that is
    missing, damaged or of the wrong contract is left out (logged and reported once), and the mirror
    paints without it: at the generator's resolution, or the first candidate instead of the most in-style.
    """

    def __init__(self, folder: Any = None, upscale: bool = True, threads: int | None = None) -> None:
        from installation.inference.emotion import EmotionClassifier
        from installation.inference.encoder import PaintingEncoder
        from installation.inference.generator import Generator, Upscaler
        from installation.pack import pack_path

        self.emotion = EmotionClassifier(pack_path("emotion", folder), threads=threads)
        self.generator = Generator(pack_path("generator", folder), threads=threads)
        up, enc = pack_path("upscaler", folder), pack_path("encoder", folder)
        self.degraded: list[str] = []  # one line per optional model left out
        self.upscaler = self._optional(Upscaler, up, threads, "upscaling") if upscale and up.exists() else None
        self.encoder = self._optional(PaintingEncoder, enc, threads, "choosing the most in-style candidate") \
            if enc.exists() else None

    def _optional(self, cls: Any, path: Any, threads: int | None, what: str) -> Any:
        from installation.inference.contract import ModelContractError

        try:
            return cls(path, threads=threads)
        except ModelContractError as exc:
            message = f"{exc}; the emotion mirror paints without {what}"
            log.warning("%s", message)
            faults.report("model", message)
            self.degraded.append(message)
            return None


class EmotionMirrorScene(Scene):
    """The mirror. ``analyzer``/``models``/``worker`` may be injected (tests); by default the scene opens the
    show's camera and the show's models when it starts playing."""

    def __init__(self, env: SceneEnv, params: EmotionMirrorParams, *, analyzer: Any = None,
                 models: MirrorModels | None = None, worker: Any = None) -> None:
        super().__init__(env, params)
        from installation.emotion.art import DEFAULT_MAPPING, PaintWorker, mapping_matrix
        from installation.emotion.mirror import MirrorSettings, MirrorState

        self.grid = GridCompositor(env.ctx, env.size, 1, 1, fit=params.fit, background=env.background,
                                   cell_aspect=None, post=env.post)
        self.attract = GradualChangeScene(env, params.attract) if params.attract is not None else None
        self.transition = Transition.from_spec(params.transition)
        self.mode_transition = Transition.from_spec(params.attract_transition)
        self.state = None
        self.models = models
        self.analyzer = analyzer
        self.worker = worker
        self.paintings = 0
        self.latency: list[float] = []  # seconds from the frame's capture to the painting's first frame
        self._attract_t = 0.0
        self._slots: list[SceneSlot] = []
        self._mixer: SceneMixer | None = None
        self._inset: GridCompositor | None = None
        self._inset_at = -1.0
        self._shown_pending: float | None = None
        self._last_captured: float | None = None
        self.last_painting = None
        self.fallback: str | None = None  # why the mirror plays only its attract scene
        self._camera_state = "none"
        self._paint_errors = 0
        try:
            if self.models is None:
                self.models = MirrorModels(params.models, params.upscale)
            labels = self.models.emotion.labels
            matrix = mapping_matrix(params.mapping or DEFAULT_MAPPING, labels, self.models.generator.classes)
            settings = MirrorSettings(params.half_life, params.switch_margin, params.switch_seconds,
                                      params.absent_after, params.interval, params.min_interval)
            self.state = MirrorState(settings, matrix, labels)
            if self.worker is None:
                self.worker = PaintWorker(self.models.generator, self.models.upscaler, self.models.encoder,
                                          params.candidates, params.select_on)
            if self.analyzer is None:
                self.analyzer = self._open_camera()
        except Exception as exc:  # no models, bad mapping: the show goes on with the attract scene
            reason = " ".join(str(exc).split()) or type(exc).__name__
            after = "playing its attract scene" if self.attract is not None else "showing the background"
            log.error("cue %s: the emotion mirror cannot start (%s); %s", env.cue_id, reason, after)
            faults.report("model", f"cue {env.cue_id}: emotion mirror fallback ({after}): {reason}")
            self.fallback = reason
            self.state = None
            if self.worker is not None and worker is None:
                self.worker.stop()
            self.worker = None

    def _open_camera(self) -> Any:
        from installation.capture import CaptureThread, open_source
        from installation.capture.faces import FaceTracker, make_detector
        from installation.emotion.live import Analyzer
        from installation.emotion.pipeline import EmotionPipeline

        assert self.models is not None  # __init__ loads the models before it opens the camera
        p = self.params
        source = open_source(p.camera, loop=p.loop)
        capture = CaptureThread(source, pace=True)
        pipeline = EmotionPipeline(self.models.emotion, make_detector(p.detector, p.detect_size),
                                   FaceTracker(p.face), half_life=p.half_life)
        return Analyzer(capture, pipeline, keep_frame=p.inset).start()

    # ---- time ------------------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return "attract" if self.state is None else self.state.mode

    def on_frame(self, t: float, dt: float) -> None:
        super().on_frame(t, dt)
        from installation.emotion.art import PaintRequest

        if self.state is not None:
            reading = self.analyzer.take() if self.analyzer is not None else None
            ok = self.analyzer is not None and self.analyzer.source_ok and not self._camera_stalled()
            order = self.state.update(t, reading.probs if reading else None,
                                      reading.has_face if reading else None, ok)
            if reading is not None and reading.has_face:
                self._last_captured = reading.timings.get("captured_at")
            if order is not None and self.worker is not None:  # tag: capture time of the newest frame behind it
                self.worker.submit(PaintRequest(order.mixture, self.params.seed * 100003 + order.serial,
                                                time.perf_counter(), tag=self._last_captured))
            self._collect(t)
            self._watch_faults()
        if (self.mode == "attract" or self._mixing(t)) and self.attract is not None:
            self._attract_t += dt
            self.attract.on_frame(self._attract_t, dt)

    def _camera_stalled(self) -> bool:
        """Connected, but no frame for STALL_SECONDS: a read that hangs (the source never reports a failure)."""
        capture = getattr(self.analyzer, "capture", None)
        if capture is None or capture.state != "connected":
            return False
        age = capture.seconds_since_frame()
        return age is not None and age > STALL_SECONDS

    def camera_health(self) -> dict[str, Any]:
        """``state``: ``ok`` (frames arrive), ``retrying`` (it worked, then failed; reopening with backoff),
        ``absent`` (it has not opened since the cue started; still retried), ``starting`` (the first open is
        under way), ``stalled`` (open, but no frame for STALL_SECONDS: the mirror treats it as lost),
        ``none`` (no camera in use: the mirror is in its model fallback); plus ``source``, ``frames``,
        ``reconnects``, ``last_error``."""
        capture = getattr(self.analyzer, "capture", None)
        if capture is None:
            return {"state": "none"}
        stats = capture.stats
        if capture.state == "connected":
            state = "stalled" if self._camera_stalled() else "ok"
        elif capture.state == "connecting":
            state = "starting"
        elif capture.state == "reconnecting" and stats.frames > 0:
            state = "retrying"
        else:
            state = "absent"
        return {"state": state, "source": capture.source.name, "frames": stats.frames,
                "reconnects": stats.reconnects, "last_error": stats.last_error or None}

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {"camera": self.camera_health()}
        degraded = getattr(self.models, "degraded", None)
        if self.fallback is not None or degraded:
            out["fallback"] = self.fallback or "; ".join(degraded or ())
        return out

    def _watch_faults(self) -> None:
        """Report a camera that goes away or comes back, and the first failed painting, once each."""
        camera = self.camera_health()
        state = camera["state"]
        if state != self._camera_state:
            cue, source, error = self.env.cue_id, camera.get("source"), camera.get("last_error")
            if state == "stalled":
                faults.report("camera", f"cue {cue}: camera {source} delivers no frames (stalled for over "
                              f"{STALL_SECONDS:g} s); the attract scene plays")
            elif state in ("retrying", "absent") and self._camera_state in ("none", "ok", "starting"):
                faults.report("camera", f"cue {cue}: camera {source} {'lost' if state == 'retrying' else 'absent'}"
                              f" ({error or 'no frames'}); the attract scene plays, retrying with backoff")
            elif state == "ok" and self._camera_state in ("retrying", "absent", "stalled"):
                faults.report("camera", f"cue {cue}: camera {source} is back", "info")
            self._camera_state = state
        errors = getattr(self.worker, "errors", 0)
        if errors and not self._paint_errors:
            faults.report("model", f"cue {self.env.cue_id}: a painting failed (see the player log); the last "
                          "painting stays and the next one is tried")
        self._paint_errors = errors

    def _collect(self, t: float) -> None:
        if self.worker is None:
            return
        while not self.worker.results.empty():
            painting = self.worker.results.get_nowait()
            self.grid.set_image(0, painting.image, transition=self.transition, start_time=t,
                                seed=painting.seed)
            self.paintings += 1
            self.last_painting = painting
            self._shown_pending = painting.request.tag

    def _mixing(self, t: float) -> bool:
        return self.state is not None and t - self.state.mode_since < self.mode_transition.duration \
            and self.state.mode_since > 0

    @property
    def stats(self) -> dict[str, Any]:
        """For the status overlay and the kiosk: mode, emotion, camera state, capture fps and drops, paintings."""
        out: dict[str, Any] = {"mode": self.mode, "paintings": self.paintings,
                               "emotion": self.state.label if self.state else None}
        capture = getattr(self.analyzer, "capture", None)
        if capture is not None:
            out["camera"] = capture.state
            out.update({f"capture_{k}": v for k, v in capture.stats.to_json().items()})
        if self.latency:
            out["latency_s"] = self.latency[-1]
        return out

    # ---- pixels ----------------------------------------------------------------------------------------

    def _draw_mode(self, mode: str, fbo: moderngl.Framebuffer) -> None:
        if mode == "mirror":
            self.grid.draw(self.t, fbo)
            if self._shown_pending is not None and not self.grid.uploads_pending:  # the painting's first frame is drawn
                self.latency.append(time.monotonic() - self._shown_pending)
                self._shown_pending = None
            if self.params.inset:
                self._draw_inset(fbo)
        elif self.attract is not None:
            self.attract.render(fbo)
        else:
            fbo.use()
            fbo.clear(*to_unit(self.env.background), 1.0)

    def render(self, fbo: moderngl.Framebuffer) -> None:
        if not self._mixing(self.t):
            self._draw_mode(self.mode, fbo)
            return
        if not self._slots:
            self._slots = [SceneSlot(self.env.ctx, self.env.size) for _ in range(2)]
            self._mixer = SceneMixer(self.env.ctx)
        new = self.mode
        old = "attract" if new == "mirror" else "mirror"
        self._draw_mode(old, self._slots[0].fbo)
        self._draw_mode(new, self._slots[1].fbo)
        spec = self.mode_transition
        # _mixing() is true only with a state; the mixer is made with the slots above
        assert self.state is not None and self._mixer is not None
        progress = ease(spec.easing, min(1.0, (self.t - self.state.mode_since) / max(spec.duration, 1e-6)))

        self._mixer.draw(fbo, self._slots[0].texture, self._slots[1].texture, spec, progress)

    def _draw_inset(self, fbo: moderngl.Framebuffer) -> None:
        """The newest camera frame, mirrored, in the bottom-right corner (reusing the compositor)."""
        frame = self.analyzer.frame() if self.analyzer is not None else None
        if frame is None:
            return
        w, h = self.env.size
        iw = max(8, int(w * self.params.inset_size))
        ih = max(8, int(iw * frame.shape[0] / frame.shape[1]))
        if self._inset is None:
            self._inset = GridCompositor(self.env.ctx, (iw, ih), 1, 1, fit="cover", cell_aspect=None,
                                         background=self.env.background)
        if self.t - self._inset_at >= 1 / 15:
            rgb = cv2.cvtColor(cv2.flip(frame, 1), cv2.COLOR_BGR2RGB)
            self._inset.set_image(0, rgb, transition="cut", start_time=self.t)
            self._inset_at = self.t
        self._inset.draw(self.t)
        margin = max(4, w // 60)
        viewport = fbo.viewport
        fbo.viewport = (w - iw - margin, margin, iw, ih)
        self._inset.present(fbo)
        fbo.viewport = viewport

    def release(self) -> None:
        if self.analyzer is not None:
            self.analyzer.stop()
        if self.worker is not None:
            self.worker.stop()
        for obj in (self.grid, self.attract, self._mixer, self._inset, *self._slots):
            if obj is not None:
                obj.release()
