"""``style_transfer``: a camera (or video, stream, image folder) repainted live in the style of a painting, or
of each painting of a folder in turn.

:mod:`~installation.scenes.style_transfer.params`: what a show may write and the validation-time checks;
:mod:`~installation.scenes.style_transfer.schedule`: which style plays at show time t (pure);
:mod:`~installation.scenes.style_transfer.worker`: the stylize thread; :mod:`~installation.scenes.style_transfer.scene`:
the live scene.
"""

from installation.scenes.style_transfer.params import StyleTransferParams
from installation.scenes.style_transfer.scene import StyleTransferScene
from installation.scenes.style_transfer.schedule import StyleMix, style_at, style_files
from installation.scenes.style_transfer.worker import StyleWorker, StylizedFrame

__all__ = ["StyleMix", "StyleTransferParams", "StyleTransferScene", "StyleWorker", "StylizedFrame", "style_at",
           "style_files"]
