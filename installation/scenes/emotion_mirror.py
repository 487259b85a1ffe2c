"""``emotion_mirror``: a placeholder until issue 5 brings the camera -> emotion -> painting mirror.

It draws the show background and says so once in the log; it does not pretend to be the mirror.
"""

from __future__ import annotations

import logging

import moderngl

from installation.render.color import to_unit
from installation.scenes.base import Scene, SceneEnv
from installation.show import EmotionMirrorParams

log = logging.getLogger(__name__)
_told = False


class EmotionMirrorScene(Scene):
    def __init__(self, env: SceneEnv, params: EmotionMirrorParams) -> None:
        super().__init__(env, params)
        global _told
        if not _told:
            log.warning("cue %s: the emotion mirror arrives with issue 5; showing the background meanwhile", env.cue_id)
            _told = True

    def render(self, fbo: moderngl.Framebuffer) -> None:
        fbo.use()
        fbo.clear(*to_unit(self.env.background), 1.0)
