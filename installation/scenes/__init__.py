"""Scenes: each scene type's parameters, validation-time checks, preparation and drawing together, one module
(or package) per type, and the one place scene types are registered.

Importing this package registers the built-in types below: their parameters go into the show layer's
registry (:mod:`installation.show.scene_types`, which validates ``scene: {type: ...}``) and their drawing
classes into :data:`SCENES` (which :func:`create_scene` plays), both through :func:`register`, so the two
can never disagree. Whoever validates or plays a show imports this package first (the CLI, the kiosk's
validation child, the player); the show layer itself never imports it.

    import installation.scenes
    from installation.scenes import SceneEnv, create_scene
    scene = create_scene(cue.scene, SceneEnv(ctx, size, background, post_settings(cue.post)))
    scene.on_frame(t_in_cue, dt); scene.render(fbo); scene.release()

A new scene type: a module with a :class:`~installation.show.SceneParams` subclass (``inspect`` for cheap disk
checks, ``prepare`` for long work done before it plays) and a :class:`Scene` subclass, then
``register("name", NameScene, NameParams)``.
"""

from __future__ import annotations

from installation.scenes.base import Scene, SceneEnv
from installation.scenes.emotion_mirror import EmotionMirrorParams, EmotionMirrorScene
from installation.scenes.gradual_change import GradualChangeParams, GradualChangeScene, RevealPlan
from installation.scenes.image import ImageParams, ImageScene
from installation.scenes.latent_walk import LatentWalkParams, LatentWalkScene
from installation.scenes.post import post_settings
from installation.scenes.solid import SolidParams, SolidScene
from installation.scenes.style_transfer import StyleTransferParams, StyleTransferScene
from installation.show import SceneParams, register_scene

SCENES: dict[str, type[Scene]] = {}  # scene type -> its drawing; filled only by register()


def register(name: str, scene: type[Scene], params: type[SceneParams] | None = None) -> type[Scene]:
    """Make show scripts' ``type: name`` valid (``params``, into the show layer's registry) and playable
    (``scene``). ``params`` may be left out only when it was registered with ``register_scene`` already."""
    if params is not None:
        register_scene(name, params)
    SCENES[name] = scene
    return scene


register("gradual_change", GradualChangeScene, GradualChangeParams)
register("solid", SolidScene, SolidParams)
register("image", ImageScene, ImageParams)
register("emotion_mirror", EmotionMirrorScene, EmotionMirrorParams)
register("latent_walk", LatentWalkScene, LatentWalkParams)
register("style_transfer", StyleTransferScene, StyleTransferParams)


def create_scene(params: SceneParams, env: SceneEnv) -> Scene:
    """The scene for validated ``params`` (``KeyError`` for a type with no scene)."""
    try:
        cls = SCENES[params.type]
    except KeyError:
        raise KeyError(f"no scene plays type '{params.type}'; known: {', '.join(SCENES)}") from None
    return cls(env, params)


__all__ = ["SCENES", "EmotionMirrorParams", "GradualChangeParams", "ImageParams", "LatentWalkParams", "RevealPlan",
           "Scene", "SceneEnv", "SolidParams", "StyleTransferParams", "create_scene", "post_settings", "register"]
