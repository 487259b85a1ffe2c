"""Show scripts, described and validated: YAML with line numbers -> validated :class:`Show` -> :class:`Timeline`
(what plays at time t). This layer never runs a pipeline (no orders, no model runs, no GL): it imports only
:mod:`installation.config` and small base utilities (easing).

Scene types are not defined here: the show layer validates each cue's ``scene:`` through a registry it owns
(:mod:`installation.show.scene_types`), and :mod:`installation.scenes` registers the built-in types into it.
Import it before validating (``check_show`` says so loudly when nothing is registered)::

    import installation.scenes                       # registers the scene types
    from installation.show import Timeline, load_show

    show = load_show("shows/gradual_change.yaml")   # raises ShowError listing every problem
    timeline = Timeline(show)
    playhead = timeline.at(t)                        # t: show time in seconds, injected by the caller
    playhead.cue.scene                               # the scene's validated parameters
"""

from installation.easing import EASINGS, ease
from installation.show.load import ShowError, ShowReport, check_show, check_text, load_show, load_show_text
from installation.show.scene_types import SceneParams, SceneProblem, register_scene, resolve_path, scene_types
from installation.show.schema import (
    SHOW_VERSION,
    Cue,
    Defaults,
    Display,
    Grade,
    Kuwahara,
    PostStep,
    Show,
    Transition,
)
from installation.show.timeline import Playhead, Timeline, TimelineEvent

__all__ = [
    "EASINGS", "SHOW_VERSION", "Cue", "Defaults", "Display", "Grade", "Kuwahara", "Playhead", "PostStep",
    "SceneParams", "SceneProblem", "Show", "ShowError", "ShowReport", "Timeline", "TimelineEvent", "Transition",
    "check_show", "check_text", "ease", "load_show", "load_show_text", "register_scene", "resolve_path", "scene_types",
]
