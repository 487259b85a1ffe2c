"""``latent_walk``: a continuous journey through the generator's space (slerp between seeded latent codes, a
path through style mixtures), a pure function of cue time.

:mod:`~installation.scenes.latent_walk.params`: what a show may write and the validation-time checks;
:mod:`~installation.scenes.latent_walk.walk`: the walk (no GL, no clock);
:mod:`~installation.scenes.latent_walk.worker`: keyframes rendered ahead on a thread;
:mod:`~installation.scenes.latent_walk.scene`: the drawing.
"""

from installation.scenes.latent_walk.params import LatentWalkParams
from installation.scenes.latent_walk.scene import LatentWalkScene
from installation.scenes.latent_walk.walk import WalkPlan, slerp

__all__ = ["LatentWalkParams", "LatentWalkScene", "WalkPlan", "slerp"]
