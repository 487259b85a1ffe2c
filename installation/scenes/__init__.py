"""Scenes: one module per scene type, found by the show's scene ``type`` in a small registry.

    from installation.scenes import SceneEnv, create_scene
    scene = create_scene(cue.scene, SceneEnv(ctx, size, background, post_settings(cue.post)))
    scene.on_frame(t_in_cue, dt); scene.render(fbo); scene.release()
"""

from __future__ import annotations

from installation.scenes.base import Scene, SceneEnv
from installation.scenes.emotion_mirror import EmotionMirrorScene
from installation.scenes.gradual_change import GradualChangeScene, RevealPlan
from installation.scenes.image import ImageScene
from installation.scenes.post import post_settings
from installation.scenes.solid import SolidScene
from installation.show import SceneParams

SCENES: dict[str, type[Scene]] = {
    "gradual_change": GradualChangeScene,
    "solid": SolidScene,
    "image": ImageScene,
    "emotion_mirror": EmotionMirrorScene,
}


def register(name: str, scene: type[Scene]) -> type[Scene]:
    """Make show scripts' ``type: name`` play ``scene`` (its parameters register with the show package)."""
    SCENES[name] = scene
    return scene


def create_scene(params: SceneParams, env: SceneEnv) -> Scene:
    """The scene for validated ``params`` (``KeyError`` for a type with no scene)."""
    try:
        cls = SCENES[params.type]
    except KeyError:
        raise KeyError(f"no scene plays type '{params.type}'; known: {', '.join(SCENES)}") from None
    return cls(env, params)


__all__ = ["SCENES", "RevealPlan", "Scene", "SceneEnv", "create_scene", "post_settings", "register"]
