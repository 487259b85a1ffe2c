"""Show scripts: YAML with line numbers -> validated :class:`Show` -> :class:`Timeline` (what plays at time t).

Typical use::

    show = load_show("shows/gradual_change.yaml")   # raises ShowError listing every problem
    timeline = Timeline(show)
    playhead = timeline.at(t)                        # t: show time in seconds, injected by the caller
    playhead.cue.scene                               # the scene's validated parameters
"""

from installation.easing import EASINGS, ease
from installation.show.errors import ShowError, ShowIssue
from installation.show.fields import Transition, colour_floats
from installation.show.load import ShowReport, check_show, check_text, load_show, load_show_text
from installation.show.scene_params import (
    EmotionMirrorParams,
    GradualChangeParams,
    ImageParams,
    SceneParams,
    SolidParams,
    register_scene,
    scene_types,
)
from installation.show.schema import SHOW_VERSION, Cue, Defaults, Display, Grade, Kuwahara, PostStep, Show
from installation.show.timeline import Playhead, Timeline, TimelineEvent

__all__ = [
    "EASINGS", "SHOW_VERSION", "Cue", "Defaults", "Display", "EmotionMirrorParams", "Grade", "GradualChangeParams",
    "ImageParams", "Kuwahara", "Playhead", "PostStep", "SceneParams", "Show", "ShowError", "ShowIssue",
    "ShowReport", "SolidParams", "Timeline", "TimelineEvent", "Transition", "check_show", "check_text", "colour_floats",
    "ease", "load_show", "load_show_text", "register_scene", "scene_types",
]
