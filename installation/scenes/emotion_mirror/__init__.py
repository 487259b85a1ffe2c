"""``emotion_mirror``: a camera sees a visitor's face and the wall paints in the style that emotion maps to
(after *VAHA*).

:mod:`~installation.scenes.emotion_mirror.params`: what a show may write and the validation-time checks
(models' contracts, never a camera); :mod:`~installation.scenes.emotion_mirror.scene`: the live scene.
"""

from installation.scenes.emotion_mirror.params import EmotionMirrorParams
from installation.scenes.emotion_mirror.scene import STALL_SECONDS, EmotionMirrorScene, MirrorModels

__all__ = ["STALL_SECONDS", "EmotionMirrorParams", "EmotionMirrorScene", "MirrorModels"]
