"""What plays at show time t: a pure function of the show, the recorded operator/scene events, and t.

Time is injected: nothing here reads a clock. The runtime passes its show time (paused time does not
advance it); an offline render passes frame_index / fps. Operator input (``next``, ``previous``, ``goto``,
``restart``) and scenes finishing (``mark_done`` for ``until: done`` cues) are recorded as timed events, so
``at(t)`` gives the same answer however often and in whatever order it is asked.

Rules: a cue starts with the transition into it (the outgoing cue keeps playing underneath until the
transition ends); a cue with a ``duration`` ends ``duration`` seconds after it started and then its
``follow`` applies: ``next`` (after the last cue: the first), ``loop`` (the same cue again), ``goto:<id>``,
``hold`` (stay until an operator steps). ``until: done`` cues end when :meth:`Timeline.mark_done` says so.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Literal

from installation.easing import ease
from installation.show.schema import Cue, Show, Transition

EventKind = Literal["next", "previous", "goto", "restart", "done"]
_MARK_EVERY = 64  # keep a resumable state every this many cue starts (cheap backward seeks)


@dataclass(frozen=True)
class Segment:
    """One stretch of the show where one cue plays: cue ``index`` from ``start``, entered from ``previous``."""

    index: int
    start: float
    transition: Transition
    previous: int | None = None
    previous_start: float | None = None
    occurrence: int = 0  # how many cue starts came before this one (0 for the first cue at t=0)


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened at show time ``t``: an operator step or a scene finishing."""

    t: float
    seq: int
    kind: EventKind
    cue_id: str | None = None
    transition: Transition | None = None


@dataclass(frozen=True)
class Playhead:
    """What plays at show time ``t``."""

    t: float
    index: int
    cue_id: str
    cue: Cue
    cue_start: float
    occurrence: int
    transition: Transition
    transition_linear: float  # 0..1, linear in time; 1 after the transition (and for a cut)
    transition_progress: float  # the same, eased with the transition's easing
    previous_index: int | None  # the outgoing cue (None for the first cue: it comes in over the background)
    previous_id: str | None
    previous_time_in_cue: float | None  # how long the outgoing cue has been playing, for animating it
    end: float | None  # show time when this cue is due to end (None: hold, or until done)
    next_index: int | None  # the cue that follows at ``end`` or when done (None: hold)
    next_id: str | None

    @property
    def time_in_cue(self) -> float:
        """Seconds since this cue started."""
        return self.t - self.cue_start

    @property
    def in_transition(self) -> bool:
        """True while the transition into this cue is still running."""
        return self.transition_linear < 1.0

    @property
    def remaining(self) -> float | None:
        """Seconds until this cue is due to end (``None`` when it has no planned end)."""
        return None if self.end is None else max(0.0, self.end - self.t)


_State = tuple[Segment, int]  # a segment and how many events have been applied or passed


class Timeline:
    """Cue list -> playhead, with injected time and recorded events (see the module docstring)."""

    def __init__(self, show: Show) -> None:
        if not show.cues:
            raise ValueError("a show needs at least one cue")
        self.show = show
        self._cues: list[Cue] = list(show.cues)
        self._index = {cue.id: i for i, cue in enumerate(self._cues)}
        self._events: list[TimelineEvent] = []
        self._seq = 0
        first: _State = (Segment(0, 0.0, self._transition_into(0)), 0)
        self._marks: list[_State] = [first]
        self._last: _State = first

    # ---- queries -------------------------------------------------------------------------------------

    @property
    def events(self) -> list[TimelineEvent]:
        """The recorded events in time order (replay them on a fresh Timeline to reproduce a run)."""
        return list(self._events)

    def at(self, t: float) -> Playhead:
        """What plays at show time ``t`` (seconds; negative times count as 0)."""
        t = self._check_time(t)
        segment, _ = self._last = self._advance(self._start_state(t), t)
        return self._playhead(segment, t)

    # ---- stepping ------------------------------------------------------------------------------------

    def next(self, t: float, transition: Transition | None = None) -> Playhead:
        """Operator: go to the next cue at ``t`` (after the last: the first)."""
        return self._record(t, "next", None, transition)

    def previous(self, t: float, transition: Transition | None = None) -> Playhead:
        """Operator: go to the previous cue at ``t`` (before the first: the last)."""
        return self._record(t, "previous", None, transition)

    def goto(self, cue_id: str, t: float, transition: Transition | None = None) -> Playhead:
        """Operator: go to cue ``cue_id`` at ``t`` (``KeyError`` when there is no such cue)."""
        if cue_id not in self._index:
            raise KeyError(f"no cue with id '{cue_id}'")
        return self._record(t, "goto", cue_id, transition)

    def restart(self, t: float, transition: Transition | None = None) -> Playhead:
        """Operator: start the current cue again at ``t``."""
        return self._record(t, "restart", None, transition)

    def mark_done(self, t: float, cue_id: str | None = None) -> Playhead:
        """A scene reports it finished at ``t``. Ends the cue playing at ``t`` if it is an ``until: done`` cue
        (and, when ``cue_id`` is given, only if it is that cue); otherwise the report is ignored."""
        return self._record(t, "done", cue_id, None)

    # ---- internals -----------------------------------------------------------------------------------

    @staticmethod
    def _check_time(t: float) -> float:
        t = float(t)
        if math.isnan(t):
            raise ValueError("show time is NaN")
        return max(0.0, t)

    def _transition_into(self, index: int, override: Transition | None = None) -> Transition:
        return override or self._cues[index].transition or Transition()

    def _follow(self, index: int) -> int | None:
        """The cue that follows cue ``index`` when it ends by itself (``None``: it holds)."""
        cue = self._cues[index]
        kind = cue.follow_kind
        if kind == "hold":
            return None
        if kind == "loop":
            return index
        if kind == "goto":
            return self._index[cue.follow_target]
        return (index + 1) % len(self._cues)

    def _natural_end(self, segment: Segment) -> float | None:
        cue = self._cues[segment.index]
        if cue.until_done or cue.duration is None or cue.follow_kind == "hold":
            return None
        return segment.start + float(cue.duration)

    def _enter(self, segment: Segment, index: int, t: float, override: Transition | None = None) -> Segment:
        return Segment(index, t, self._transition_into(index, override), segment.index, segment.start,
                       segment.occurrence + 1)

    def _apply(self, segment: Segment, event: TimelineEvent) -> Segment:
        n = len(self._cues)
        if event.kind == "next":
            return self._enter(segment, (segment.index + 1) % n, event.t, event.transition)
        if event.kind == "previous":
            return self._enter(segment, (segment.index - 1) % n, event.t, event.transition)
        if event.kind == "goto":
            return self._enter(segment, self._index[event.cue_id], event.t, event.transition)
        if event.kind == "restart":
            return self._enter(segment, segment.index, event.t, event.transition)
        cue = self._cues[segment.index]  # "done"
        if not cue.until_done or (event.cue_id is not None and event.cue_id != cue.id):
            return segment
        following = self._follow(segment.index)
        return segment if following is None else self._enter(segment, following, event.t)

    def _start_state(self, t: float) -> _State:
        """The latest known state that began at or before ``t`` (resuming from it gives the same answer)."""
        if self._last[0].start <= t:
            return self._last
        starts = [m[0].start for m in self._marks]
        return self._marks[max(0, bisect.bisect_right(starts, t) - 1)]

    def _advance(self, state: _State, t: float) -> _State:
        segment, pos = state
        events = self._events
        while True:
            end = self._natural_end(segment)
            event = events[pos] if pos < len(events) else None
            if end is not None and end <= t and (event is None or end <= event.t):
                following = self._follow(segment.index)
                assert following is not None  # a segment with a natural end always has a follower
                segment = self._enter(segment, following, end)
            elif event is not None and event.t <= t:
                segment, pos = self._apply(segment, event), pos + 1
            else:
                return segment, pos
            if segment.occurrence % _MARK_EVERY == 0 and segment.start > self._marks[-1][0].start:
                self._marks.append((segment, pos))

    def _record(self, t: float, kind: EventKind, cue_id: str | None, transition: Transition | None) -> Playhead:
        t = self._check_time(t)
        event = TimelineEvent(t, self._seq, kind, cue_id, transition)
        self._seq += 1
        at = bisect.bisect_right([(e.t, e.seq) for e in self._events], (t, event.seq))
        self._events.insert(at, event)
        # states that already passed this moment (or counted events after it) are no longer valid
        self._marks = [m for m in self._marks if m[0].start <= t and m[1] <= at] or self._marks[:1]
        if self._last[0].start > t or self._last[1] > at:
            self._last = self._marks[-1]
        return self.at(t)

    def _playhead(self, segment: Segment, t: float) -> Playhead:
        cue = self._cues[segment.index]
        length = segment.transition.duration
        linear = 1.0 if length <= 0 else min(1.0, max(0.0, (t - segment.start) / length))
        outgoing = segment.previous is not None and linear < 1.0
        previous = segment.previous if outgoing else None
        following = self._follow(segment.index)
        return Playhead(
            t=t, index=segment.index, cue_id=cue.id or "", cue=cue, cue_start=segment.start,
            occurrence=segment.occurrence, transition=segment.transition, transition_linear=linear,
            transition_progress=ease(segment.transition.easing, linear),
            previous_index=previous, previous_id=None if previous is None else self._cues[previous].id,
            previous_time_in_cue=None if not outgoing or segment.previous_start is None
            else t - segment.previous_start,
            end=self._natural_end(segment), next_index=following,
            next_id=None if following is None else self._cues[following].id,
        )
