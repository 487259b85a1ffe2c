"""The timeline with an injected clock: boundaries, eased transitions, follow rules, until-done, manual steps."""

from __future__ import annotations

import pytest

from installation.show import Show, Timeline, Transition, ease, load_show_text


def make_show(cues: str, defaults: str = "{duration: 10, transition: {type: crossfade, seconds: 2, easing: linear}}"
              ) -> Show:
    return load_show_text(f"version: 1\ndefaults: {defaults}\ncues:\n{cues}", "t.yaml")


THREE = """\
  - {id: a, scene: solid}
  - {id: b, scene: solid, duration: 5, transition: {type: dissolve, seconds: 1, easing: ease_in_out}}
  - {id: c, scene: solid, duration: 4, transition: cut}
"""


def test_cue_boundaries_follow_durations_and_wrap_to_the_first_cue() -> None:
    timeline = Timeline(make_show(THREE))
    expected = [(0, "a", 0.0), (9.999, "a", 0.0), (10, "b", 10.0), (14.999, "b", 10.0), (15, "c", 15.0),
                (18.999, "c", 15.0), (19, "a", 19.0), (29, "b", 29.0)]
    for t, cue_id, start in expected:
        playhead = timeline.at(t)
        assert (playhead.cue_id, playhead.cue_start) == (cue_id, start), t
    playhead = timeline.at(12)
    assert playhead.index == 1 and playhead.time_in_cue == 2 and playhead.end == 15
    assert playhead.next_id == "c" and playhead.remaining == 3 and playhead.occurrence == 1


def test_transition_progress_is_eased_and_reports_the_outgoing_cue() -> None:
    timeline = Timeline(make_show(THREE))
    first = timeline.at(1.0)  # the first cue comes in over the background
    assert first.previous_index is None and first.transition_linear == 0.5 and first.in_transition
    into_b = timeline.at(10.5)  # dissolve, 1 s, ease_in_out: the midpoint is 0.5 eased
    assert into_b.transition.type == "dissolve" and into_b.transition_linear == 0.5
    assert into_b.transition_progress == pytest.approx(0.5)
    assert into_b.previous_id == "a" and into_b.previous_time_in_cue == pytest.approx(10.5)
    quarter = timeline.at(10.25)
    assert quarter.transition_progress == pytest.approx(ease("ease_in_out", 0.25)) == pytest.approx(0.0625)
    done = timeline.at(11.0)
    assert done.transition_progress == 1.0 and not done.in_transition and done.previous_index is None
    cut = timeline.at(15.0)
    assert cut.transition.type == "cut" and cut.transition_progress == 1.0 and cut.previous_index is None


def test_easing_curves() -> None:
    assert [ease(name, 0.5) for name in ("linear", "ease_in", "ease_out", "ease_in_out", "smoothstep")] == [
        0.5, 0.125, 0.875, 0.5, 0.5]  # cubic in/out: the same curves the cells use (installation.easing)
    assert ease("smoothstep", -1) == 0.0 and ease("ease_in", 2) == 1.0


def test_loop_goto_and_hold() -> None:
    show = make_show("""\
  - {id: intro, scene: solid, duration: 3}
  - {id: body, scene: solid, duration: 4, follow: loop}
""")
    timeline = Timeline(show)
    assert [timeline.at(t).cue_id for t in (0, 3, 6.9, 7, 1000)] == ["intro", "body", "body", "body", "body"]
    assert timeline.at(1000).cue_start == 999.0 and timeline.at(7.5).previous_id == "body"

    show = make_show("""\
  - {id: intro, scene: solid, duration: 3}
  - {id: body, scene: solid, duration: 4, follow: goto:intro}
  - {id: never, scene: solid, duration: 1}
""")
    assert [Timeline(show).at(t).cue_id for t in (0, 3, 7, 10, 14)] == ["intro", "body", "intro", "body", "intro"]

    show = make_show("  - {id: a, scene: solid, duration: 2}\n  - {id: b, scene: solid, follow: hold}\n")
    timeline = Timeline(show)
    held = timeline.at(1e6)
    assert held.cue_id == "b" and held.cue_start == 2 and held.end is None and held.next_index is None


def test_until_done_waits_for_the_scene() -> None:
    show = make_show("""\
  - {id: grid, scene: solid, until: done, follow: goto:end}
  - {id: skipped, scene: solid, duration: 1}
  - {id: end, scene: solid, follow: hold}
""")
    timeline = Timeline(show)
    waiting = timeline.at(500)
    assert waiting.cue_id == "grid" and waiting.end is None and waiting.next_id == "end"
    assert timeline.mark_done(3, cue_id="end").cue_id == "grid"  # a stale report for another cue is ignored
    assert timeline.mark_done(600).cue_id == "end"
    assert timeline.at(599.9).cue_id == "grid" and timeline.at(601).previous_id == "grid"
    assert timeline.mark_done(700).cue_id == "end"  # `end` is no until-done cue: ignored


def test_manual_next_previous_goto_and_restart() -> None:
    timeline = Timeline(make_show(THREE))
    assert timeline.next(2).cue_id == "b"  # a's 10 s no longer count: b runs 2..7
    assert timeline.at(6.9).cue_id == "b" and timeline.at(7).cue_id == "c"
    assert timeline.previous(8).cue_id == "b"
    assert timeline.previous(8).cue_id == "a"
    assert timeline.previous(8).cue_id == "c"  # before the first: the last
    assert timeline.goto("a", 9, transition=Transition(type="cut")).transition_progress == 1.0
    assert timeline.restart(12).cue_start == 12
    assert timeline.at(21.9).cue_id == "a" and timeline.at(22).cue_id == "b"
    with pytest.raises(KeyError):
        timeline.goto("zzz", 30)
    assert [e.kind for e in timeline.events] == ["next", "previous", "previous", "previous", "goto", "restart"]
    # before an event it has not happened yet: the answer depends on t, not on the order of questions
    assert timeline.at(1).cue_id == "a" and timeline.at(1).end == 10


def test_answers_do_not_depend_on_the_order_of_questions() -> None:
    show = make_show(THREE)
    forward, backward = Timeline(show), Timeline(show)
    times = [i * 0.37 for i in range(3000)]
    for timeline in (forward, backward):
        timeline.next(100.1)
        timeline.goto("c", 250.5)
    ahead = [forward.at(t) for t in times]
    behind = [backward.at(t) for t in reversed(times)][::-1]
    assert ahead == behind
    fresh = Timeline(show)
    fresh.next(100.1)
    fresh.goto("c", 250.5)
    assert fresh.at(times[-1]) == ahead[-1]


def test_an_event_in_the_past_is_taken_into_account() -> None:
    timeline = Timeline(make_show(THREE))
    assert timeline.at(40).cue_id == "a"  # a cycle of 19 s: a again at 38
    timeline.goto("c", 1.0)  # recorded late (a replay): from t=1 the show runs c, a, b, ...
    assert timeline.at(0.5).cue_id == "a"
    assert [timeline.at(t).cue_id for t in (1, 5, 15, 20)] == ["c", "a", "b", "c"]


def test_long_runs_and_bad_times() -> None:
    timeline = Timeline(make_show(THREE))
    day = timeline.at(24 * 3600.0)  # 4547 cycles of a (10 s), b (5 s), c (4 s), then 7 s into a
    assert (day.cue_id, day.cue_start, day.occurrence) == ("a", 4547 * 19.0, 4547 * 3)
    assert timeline.at(3600.0).cue_start == 189 * 19.0  # backwards: resumes from a kept state, same answer
    assert timeline.at(-5).cue_id == "a" and timeline.at(-5).t == 0
    with pytest.raises(ValueError):
        timeline.at(float("nan"))
