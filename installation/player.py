"""The render loop the runtime owns: show time -> timeline playhead -> scenes -> one picture per frame.

    player = Player(show, rc.ctx, rc.size)
    run_loop(rc, player, RealClock())                 # a window: wall time, pausable
    render_frames(rc, player, FixedClock(30), 300, writer.write)   # offline: t = start + i / fps

Per frame the current scene (and, during a cue transition, the outgoing one) renders; outside transitions
the current scene draws straight into the target, during one both draw into their own pictures and the
renderer's transition shaders mix them. Both clocks feed the same :meth:`Player.frame`, so a show at a
fixed dt gives the same frames every time. Keys: Esc/q quit (the context handles them), space pauses
(show time stops), left/right step cues, ``f`` toggles the status overlay.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import moderngl
import numpy as np

from installation import faults
from installation.render import FrameStats, RenderContext, TextOverlay, Transition, parse_color
from installation.render.color import to_unit
from installation.render.viewport import ViewTarget
from installation.scenes import Scene, SceneEnv, create_scene, post_settings
from installation.scenes.media import default_media
from installation.scenes.mix import SceneMixer, SceneSlot
from installation.scenes.prepare import Preparation, prepare_show
from installation.show import Playhead, SceneParams, Show, Timeline
from installation.show import Transition as ShowTransition

log = logging.getLogger(__name__)


class FixedClock:
    """Offline time: frame ``i`` is at ``start + i / fps``, whatever the wall clock does."""

    def __init__(self, fps: float, start: float = 0.0) -> None:
        if fps <= 0:
            raise ValueError(f"fps {fps}: must be > 0")
        self.fps, self.start, self.frame = float(fps), float(start), 0
        self.paused = False  # offline renders have no operator; kept for the common interface

    def tick(self) -> tuple[float, float]:
        t = self.start + self.frame / self.fps
        self.frame += 1
        return t, (0.0 if self.frame == 1 else 1.0 / self.fps)


class RealClock:
    """Live time: show time advances with the wall clock except while paused (long stalls count as
    ``max_step`` so a hiccup does not skip half a cue)."""

    def __init__(self, now: Callable[[], float] = time.perf_counter, max_step: float = 0.5) -> None:
        self.now, self.max_step = now, max_step
        self.t, self.paused = 0.0, False
        self._last: float | None = None

    def tick(self) -> tuple[float, float]:
        real = self.now()
        dt = 0.0 if self._last is None or self.paused else min(self.max_step, max(0.0, real - self._last))
        self._last = real
        self.t += dt
        return self.t, dt


class EpochClock:
    """Shared show time (a wall): ``t = now() - epoch`` on a grid of ``1 / fps``, so players whose system clocks
    agree (chrony/NTP, linuxptp) draw the same show frame ``frame = floor((now - epoch) * fps)`` at the same
    moment, and a player that starts late or restarts lands on the right frame at once. While paused show time
    stands still on this player only; resuming jumps back to the shared time."""

    def __init__(self, epoch: float, fps: float = 60.0, now: Callable[[], float] = time.time) -> None:
        if fps <= 0:
            raise ValueError(f"fps {fps}: must be > 0")
        self.epoch, self.fps, self.now = float(epoch), float(fps), now
        self.t, self.frame, self.paused = 0.0, -1, False
        self._started = False

    def show_time(self, unix: float) -> float:
        """The show time of a system-clock time (a fleet command's ``at``)."""
        return unix - self.epoch

    def wait(self) -> None:
        """Pacing with no vsync (headless): sleep until the next frame of the shared grid begins, so every
        player draws frame ``n`` just after ``epoch + n / fps`` (a :class:`installation.pacing.Pacer` would
        drift in phase against the grid)."""
        delay = self.epoch + (self.frame + 1) / self.fps - self.now()
        if 0 < delay <= 1.0:
            time.sleep(delay + 1e-4)

    def tick(self) -> tuple[float, float]:
        if self.paused and self._started:
            return self.t, 0.0
        frame = math.floor((self.now() - self.epoch) * self.fps)
        t = frame / self.fps
        dt = 0.0 if not self._started else min(0.5, max(0.0, t - self.t))
        self.t, self.frame, self._started = t, frame, True
        return t, dt


class _Background(Scene):
    """Stands in for a scene that could not start: the show's background."""

    def render(self, fbo: moderngl.Framebuffer) -> None:
        fbo.use()
        fbo.clear(*to_unit(self.env.background), 1.0)

    def health(self) -> dict[str, object]:
        return {"fallback": "the scene could not start; the background plays"}


@dataclass
class _Live:
    """A scene instance for one cue start (``occurrence``)."""

    scene: Scene
    index: int
    slot: SceneSlot | None = None
    marked_done: bool = False


class Player:
    """Owns the timeline and the live scenes; :meth:`frame` draws show time ``t`` into a framebuffer."""

    def __init__(
        self, show: Show, ctx: moderngl.Context, size: tuple[int, int], stats: FrameStats | None = None,
        offline: bool = False, viewport: str | None = None,
    ) -> None:
        self.show, self.ctx, self.size = show, ctx, (int(size[0]), int(size[1]))
        # a wall (installation/show/wall.py): scenes draw the whole canvas; only ``viewport``'s part (plus a
        # margin) is rendered, then cropped and scaled to ``size`` (installation/render/viewport.py)
        self.viewport, self.out_size, self.view = viewport, self.size, None
        if viewport is not None:
            if show.wall is None or show.wall.canvas is None:
                raise KeyError(f"--viewport {viewport}: the show has no wall (wall: {{canvas: ..., viewports: ...}})")
            rect = show.wall.viewport(viewport)
            self.size = show.wall.canvas
            self.view = ViewTarget(ctx, show.wall.canvas, (rect.x, rect.y, rect.width, rect.height),
                                   show.wall.margin, self.out_size)
        self.route: Callable[[str, object], str | None] | None = None  # a wall sends cue commands to the fleet
        self._blackouts: list[tuple[float, int, bool]] = []  # scheduled (show time, seq, on) from the fleet
        self.offline = offline  # scenes may wait for their frame's work (SceneEnv.offline)
        self.timeline = Timeline(show)
        self.background = parse_color(tuple(show.display.background))
        self.stats = stats or FrameStats()
        self.t = 0.0
        self.paused = False
        self.overlay_visible = False
        self.playhead: Playhead | None = None
        self._live: dict[int, _Live] = {}
        self._mixer: SceneMixer | None = None
        self._overlay: TextOverlay | None = None
        self._blank: SceneSlot | None = None
        self.blackout = False  # kiosk control: draw the background only (show time keeps running)
        self.capture: Callable[[np.ndarray], None] | None = None  # run_loop hands it the next frame drawn
        self._pending: tuple[Show, int] | None = None  # a reloaded show and the occurrence it waits out
        self._preparing: Preparation | None = None  # the reloaded show's preparation (its own thread)
        prepare_show(show)  # before the first frame: orders that validation found missing are computed now

    # ---- scenes --------------------------------------------------------------------------------------

    def _scene(self, occurrence: int, index: int) -> _Live:
        live = self._live.get(occurrence)
        if live is None or live.index != index:
            if live is not None:
                self._drop(occurrence)
            cue = self.show.cues[index]
            env = SceneEnv(self.ctx, self.size, self.background, post_settings(cue.post), occurrence, cue.id or "",
                           offline=self.offline)
            live = self._live[occurrence] = _Live(self._create(cue.scene, env), index)
            log.info("cue %s (%d/%d) starts", cue.id, index + 1, len(self.show.cues))
        return live

    def _create(self, params: SceneParams, env: SceneEnv) -> Scene:
        """The cue's scene; one that cannot be built (something it reads failed in a way the scene did not
        foresee) is replaced by the background for this cue, so the show goes on instead of the player
        exiting and the kiosk restarting it into the same failure."""
        try:
            return create_scene(params, env)
        except Exception as exc:
            log.exception("cue %s: its scene cannot start; the background plays instead", env.cue_id)
            faults.report("scene", f"cue {env.cue_id}: the scene cannot start ({type(exc).__name__}: {exc}); "
                                   "the background plays instead")
            return _Background(env, params)

    def _drop(self, occurrence: int) -> None:
        live = self._live.pop(occurrence)
        live.scene.release()
        if live.slot is not None:
            live.slot.release()

    def _settle(self, t: float, dt: float) -> tuple[Playhead, _Live, _Live | None]:
        """The playhead at ``t`` with its scenes advanced; a finished ``until: done`` scene ends its cue."""
        for _ in range(8):
            ph = self.timeline.at(t)
            live = self._scene(ph.occurrence, ph.index)
            live.scene.on_frame(ph.time_in_cue, dt)
            done_time = live.scene.done_time
            if ph.cue.until_done and not live.marked_done and live.scene.done and done_time is not None:
                live.marked_done = True
                self.timeline.mark_done(ph.cue_start + done_time, ph.cue_id)
                continue
            break
        previous = None
        if ph.previous_index is not None and ph.previous_time_in_cue is not None:
            previous = self._scene(ph.occurrence - 1, ph.previous_index)
            previous.scene.on_frame(ph.previous_time_in_cue, dt)
        keep = {ph.occurrence} | ({ph.occurrence - 1} if previous is not None else set())
        for occurrence in [o for o in self._live if o not in keep]:
            self._drop(occurrence)
        return ph, live, previous

    # ---- one frame -----------------------------------------------------------------------------------

    def frame(self, t: float, dt: float, fbo: moderngl.Framebuffer) -> Playhead:
        """Draw show time ``t`` into ``fbo`` (``dt``: show seconds since the last frame)."""
        self.t = t
        ph, live, previous = self._settle(t, dt)
        if self._pending is not None and self._switch_due(ph):
            self._switch(t)
            ph, live, previous = self._settle(t, 0.0)
        self.playhead = ph
        self._scheduled_blackout(t)
        if self.blackout:
            fbo.clear(*to_unit(self.background), 1.0)
            return ph
        out, fbo = fbo, (self.view.fbo if self.view is not None else fbo)
        if self.view is not None:
            fbo.clear(*to_unit(self.background), 1.0)  # what a scene leaves undrawn, as on one canvas
        if not ph.in_transition:
            live.scene.render(fbo)
        else:
            target = self._slot(live)
            live.scene.render(target.fbo)
            if previous is not None:
                source = self._slot(previous)
                previous.scene.render(source.fbo)
            else:  # the first cue comes in over the background
                source = self._blank_slot()
            # The timeline has already eased the progress: the mix itself runs linear.
            transition = Transition.from_spec(ph.transition, easing="linear")
            # on a wall the slots are region-sized: mix in region coordinates, the transition laid on the canvas
            whole = (0.0, 0.0, 1.0, 1.0)
            mix_to, view = (self.view.plain, self.view.uv_rect()) if self.view is not None else (fbo, whole)
            self._mixer_for().draw(mix_to, source.texture, target.texture, transition, ph.transition_progress,
                                   seed=ph.occurrence * 7919 + ph.index, view=view)
        if self.view is not None:
            self.view.present(out)
        if self.overlay_visible:
            self._overlay_for().draw(out, self.status_lines())
        return ph

    # ---- a wall's scheduled commands -------------------------------------------------------------------

    def schedule(self, cmd: str, cue_id: object = None, at: float | None = None) -> str | None:
        """A fleet command taking effect at show time ``at`` (past or future: the timeline records events at any
        time, so every player that applies the same commands plays the same frames). Returns an error or None."""
        at = self.t if at is None else float(at)
        if cmd in ("go", "next"):
            ph = self.timeline.next(at)
        elif cmd == "previous":
            ph = self.timeline.previous(at)
        elif cmd == "cue":
            try:
                ph = self.timeline.goto(str(cue_id), at)
            except KeyError as exc:
                return str(exc.args[0])
        elif cmd in ("blackout", "unblackout"):
            self._blackouts.append((at, len(self._blackouts), cmd == "blackout"))
            self._blackouts.sort()
            return None
        else:
            return f"unknown command {cmd!r}"
        log.info("fleet: %s at show time %.3f -> cue %s", cmd, at, ph.cue_id)
        return None

    def _scheduled_blackout(self, t: float) -> None:
        """Apply the scheduled blackouts that are due (the newest due one wins; later ones wait)."""
        due = [b for b in self._blackouts if b[0] <= t]
        if due:
            self.blackout = due[-1][2]
            self._blackouts = [b for b in self._blackouts if b[0] > t]

    # ---- hot reload --------------------------------------------------------------------------------

    def request_reload(self, show: Show) -> None:
        """Play ``show`` from the next cue boundary: when the current cue ends (the old timeline starts
        another cue), the new show takes over at the cue with that id (else its first cue), with a cut. A
        cue with no planned end (hold, until done) is left at once, after its transition in."""
        occurrence = self.playhead.occurrence if self.playhead is not None else -1
        self._pending = (show, occurrence)
        self._preparing = Preparation(show)  # off the render thread: the old show plays on meanwhile

    def _switch_due(self, ph: Playhead) -> bool:
        assert self._pending is not None
        if self._preparing is not None and not self._preparing.done:
            return False
        return ph.occurrence != self._pending[1] or (ph.end is None and not ph.in_transition)

    def _switch(self, t: float) -> None:
        assert self._pending is not None
        show, _ = self._pending
        self._pending = None
        cue_id = self.timeline.at(t).cue_id
        for occurrence in list(self._live):
            self._drop(occurrence)
        self.show, self.timeline = show, Timeline(show)
        self.background = parse_color(tuple(show.display.background))
        target = cue_id if any(c.id == cue_id for c in show.cues) else show.cues[0].id
        assert target is not None  # the show loader gives every cue an id

        self.timeline.goto(target, t, ShowTransition(type="cut"))
        log.info("reload: the new show takes over at cue %s", target)

    def command(self, cmd: str, cue_id: object = None) -> str | None:
        """A kiosk control command (see installation/player_link/control.py); returns an error or None. On a
        wall (``route`` set) cue commands go to the whole fleet instead, which schedules them for every player."""
        if self.route is not None and cmd in ("go", "next", "previous", "cue", "blackout", "unblackout"):
            return self.route(cmd, cue_id)
        if cmd in ("go", "next"):
            self.on_key("right")
        elif cmd == "previous":
            self.on_key("left")
        elif cmd == "cue":
            try:
                self.timeline.goto(str(cue_id), self.t)
            except KeyError as exc:
                return str(exc.args[0])
        elif cmd in ("pause", "resume"):
            if self.paused != (cmd == "pause"):
                self.on_key("space")
        elif cmd in ("blackout", "unblackout"):
            self.blackout = cmd == "blackout"
        else:
            return f"unknown command {cmd!r}"
        return None

    def _new_slot(self) -> SceneSlot:
        if self.view is None:
            return SceneSlot(self.ctx, self.size)
        slot = SceneSlot(self.ctx, self.view.size)  # the region only, projected like the view's target
        self.view.project(slot.fbo)
        return slot

    def _slot(self, live: _Live) -> SceneSlot:
        if live.slot is None:
            live.slot = self._new_slot()
        return live.slot

    def _blank_slot(self) -> SceneSlot:
        if self._blank is None:
            self._blank = self._new_slot()
        self._blank.fbo.clear(*to_unit(self.background), 1.0)
        return self._blank

    def _mixer_for(self) -> SceneMixer:
        if self._mixer is None:
            self._mixer = SceneMixer(self.ctx)
        return self._mixer

    def _overlay_for(self) -> TextOverlay:
        if self._overlay is None:
            self._overlay = TextOverlay(self.ctx)
        return self._overlay

    def health(self) -> dict[str, object]:
        """Runtime faults for the kiosk heartbeat: the current cue's camera (``{"state": "none"}`` when it has
        none), image files that fail, and cues playing a fallback (installation/faults.py)."""
        camera: dict[str, object] = {"state": "none"}
        fallbacks = {}
        current = self.playhead.occurrence if self.playhead is not None else None
        for occurrence, live in self._live.items():
            h = live.scene.health()
            if "camera" in h and (occurrence == current or camera["state"] == "none"):
                camera = h["camera"]
            if h.get("fallback"):
                fallbacks[live.scene.env.cue_id or str(live.index)] = h["fallback"]
        return {"camera": camera, "media": default_media().snapshot(), "fallbacks": fallbacks,
                "faults": faults.FAULTS.snapshot()}

    def status_lines(self) -> list[str]:
        """What the ``f`` overlay shows: show, cue, time, frame statistics."""
        ph = self.playhead
        name = self.show.name or (self.show.path.stem if self.show.path else "show")
        lines = [f"{name}{'  [paused]' if self.paused else ''}"]
        if ph is not None:
            lines.append(f"cue {ph.cue_id} ({ph.index + 1}/{len(self.show.cues)})  {ph.time_in_cue:6.1f} s"
                         f"  show {ph.t:7.1f} s")
        return lines + self.stats.snapshot().lines()

    # ---- operator ------------------------------------------------------------------------------------

    def on_key(self, key: str) -> None:
        """space: pause; left/right: previous/next cue; f: overlay; other keys go to the current scene."""
        if key == "space":
            self.paused = not self.paused
            self.stats.reset()
            log.info("%s at show time %.2f s", "paused" if self.paused else "resumed", self.t)
        elif key == "right":
            ph = self.timeline.next(self.t)
            log.info("operator: next cue -> %s", ph.cue_id)
        elif key == "left":
            ph = self.timeline.previous(self.t)
            log.info("operator: previous cue -> %s", ph.cue_id)
        elif key == "f":
            self.overlay_visible = not self.overlay_visible
        elif self.playhead is not None and self.playhead.occurrence in self._live:
            self._live[self.playhead.occurrence].scene.on_key(key)

    def release(self) -> None:
        for occurrence in list(self._live):
            self._drop(occurrence)
        for obj in (self._mixer, self._overlay, self._blank, self.view):
            if obj is not None:
                obj.release()


def run_loop(rc: RenderContext, player: Player, clock: RealClock, seconds: float | None = None,
             screenshot: Callable[[np.ndarray], None] | None = None,
             on_present: Callable[[Player, int], None] | None = None,
             pre_frame: Callable[[Player], None] | None = None) -> int:
    """Play until Esc/q (or ``seconds`` of show time); returns the number of frames drawn. ``screenshot``
    receives the last frame, drawn again at the same show time, as (H, W, 3) RGB. ``on_present(player,
    frames)`` runs right after each frame is presented (the kiosk heartbeat; offscreen frame pacing);
    ``pre_frame(player)`` at the start of each frame (kiosk control commands). ``player.capture``, when
    set, receives the next frame drawn (read before it is presented) and is cleared."""
    rc.on_key(player.on_key)
    frames = 0
    while not rc.should_close:
        rc.begin_frame()  # delivers key presses
        if pre_frame is not None:
            pre_frame(player)
        clock.paused = player.paused
        t, dt = clock.tick()
        if seconds is not None and t >= seconds:
            break
        player.frame(t, dt, rc.fbo)
        if player.capture is not None:
            capture, player.capture = player.capture, None
            capture(rc.read_pixels())
        rc.end_frame()
        if not player.paused:
            player.stats.tick(time.perf_counter())
        frames += 1
        if on_present is not None:
            on_present(player, frames)
    if screenshot is not None:
        rc.begin_frame()
        player.frame(player.t, 0.0, rc.fbo)
        screenshot(rc.read_pixels())
        rc.end_frame()
    return frames


def render_frames(rc: RenderContext, player: Player, clock: FixedClock, count: int,
                  sink: Callable[[np.ndarray], None]) -> None:
    """Offline: ``count`` frames at the clock's fixed step, each handed to ``sink`` as (H, W, 3) RGB."""
    for _ in range(count):
        rc.begin_frame()
        t, dt = clock.tick()
        player.frame(t, dt, rc.fbo)
        sink(rc.read_pixels())
        rc.end_frame()
