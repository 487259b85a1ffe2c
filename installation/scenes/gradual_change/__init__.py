"""``gradual_change``: a collection revealed one image at a time on a grid (after *Medium . Permeation*).

:mod:`~installation.scenes.gradual_change.params`: what a show may write, the validation-time checks and the
order's preparation; :mod:`~installation.scenes.gradual_change.scene`: the reveal plan and the drawing.
"""

from installation.scenes.gradual_change.params import GradualChangeParams, OrderFileProblem, read_order_file
from installation.scenes.gradual_change.scene import GradualChangeScene, Reveal, RevealPlan, base_order

__all__ = ["GradualChangeParams", "GradualChangeScene", "OrderFileProblem", "Reveal", "RevealPlan", "base_order",
           "read_order_file"]
