"""``emotion_mirror`` parameters: the schema and the validation-time checks (:meth:`EmotionMirrorParams.inspect`:
the attract scene, the camera path, the face detector, and the model pack's *contract*: the emotion labels and
the generator's classes that ``mapping`` must name, read from the models' metadata). The camera is never
opened here. The drawing is in :mod:`installation.scenes.emotion_mirror.scene`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from installation.config import Seconds, Seed, Wait, bounded_seconds, clip, custom_error
from installation.scenes.frame_source import Camera, missing_camera
from installation.scenes.gradual_change.params import GradualChangeParams
from installation.show import SceneParams, SceneProblem, Transition, resolve_path

MAX_WEIGHT = 1000.0  # style weights are relative; this keeps their sum finite


class EmotionMirrorParams(SceneParams):
    """The emotion mirror (camera -> faces -> emotion -> generated painting), with an attract scene.

    The camera is opened only when the scene plays, never at validation. Models are read at validation
    (metadata only matters: the emotion labels and the generator's classes that ``mapping`` must name).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["emotion_mirror"]
    camera: Camera = 0
    loop: bool = True  # a video file or image folder starts again at its end
    models: Path | None = None  # model folder (default: the bundled pack)
    face: Literal["largest", "central", "aggregate"] = "largest"
    detector: str = "haar"  # "haar" (OpenCV's cascade) or an ONNX face detector in YuNet format (a file)
    detect_size: int = Field(320, ge=64, le=4096)  # longer side of the frame the detector sees
    half_life: Wait = 1.0  # EMA smoothing of the emotion probabilities, seconds
    switch_margin: float = Field(0.1, ge=0, le=1)  # hysteresis: lead another emotion needs...
    switch_seconds: Wait = 1.0  # ...for this long before the displayed emotion changes
    absent_after: Seconds = 5.0  # no face for this long -> the attract scene
    mapping: dict[str, dict[str, float]] | None = None  # emotion -> {style: weight}; None: the default
    # a new painting every N seconds while someone is there (a painting takes about a second to make)
    interval: Annotated[float, bounded_seconds(1.0)] = 8.0
    min_interval: Wait = 2.0  # ...sooner when the displayed emotion changes, but not sooner
    candidates: int = Field(4, ge=1, le=32)  # paintings per round; the encoder keeps the most in-style
    upscale: bool = True
    select_on: Literal["generated", "upscaled"] = "generated"  # rate candidates before upscaling (faster)
    seed: Seed = 0
    fit: Literal["cover", "contain"] = "contain"
    transition: Transition = Field(
        default_factory=lambda: Transition(type="crossfade", seconds=2.0, easing="ease_in_out"))
    attract: GradualChangeParams | None = None
    attract_transition: Transition = Field(
        default_factory=lambda: Transition(type="crossfade", seconds=1.5, easing="ease_in_out"))
    inset: bool = False  # a mirrored camera picture in the corner
    inset_size: float = Field(0.22, gt=0, le=1)  # its width as a share of the picture's

    @field_validator("detector", mode="before")
    @classmethod
    def _detector(cls, value: Any, info: ValidationInfo) -> str:
        if value == "haar":
            return value
        return str(resolve_path(value, info, "file"))

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "folder")

    @field_validator("mapping", mode="after")
    @classmethod
    def _weights(cls, value: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]] | None:
        for emotion, weights in (value or {}).items():
            if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
                raise custom_error(f"{emotion}: weights must be >= 0 with at least one > 0")
            if any(w > MAX_WEIGHT for w in weights.values()):
                raise custom_error(f"{emotion}: weights must be <= {MAX_WEIGHT:g} (they are relative)")
        return value

    def size_problems(self, size: tuple[int, int]) -> list[SceneProblem]:
        if self.attract is None:
            return []
        return [SceneProblem(("attract", *p.loc), p.message) for p in self.attract.size_problems(size)]

    def inspect(self) -> list[SceneProblem]:
        problems: list[SceneProblem] = []
        if self.attract is not None:
            problems += [SceneProblem(("attract", *p.loc), p.message, p.warning) for p in self.attract.inspect()]
        problems += missing_camera(self.camera, "mirror keeps retrying and shows the attract scene meanwhile")
        if self.detector != "haar":
            from installation.capture.faces import make_detector

            try:
                make_detector(self.detector, self.detect_size)
            except (ValueError, FileNotFoundError) as exc:
                problems.append(SceneProblem(("detector",), str(exc)))
        problems += self._check_models()
        return problems

    def _check_models(self) -> list[SceneProblem]:
        """The mapping must name the emotion model's labels and the generator's classes."""
        from installation.emotion.art import DEFAULT_MAPPING, MappingError, mapping_matrix
        from installation.inference.contract import ModelContractError
        from installation.inference.emotion import EmotionClassifier
        from installation.inference.generator import Generator
        from installation.pack import pack_path

        try:
            emotion_path, generator_path = pack_path("emotion", self.models), pack_path("generator", self.models)
            if not (emotion_path.is_file() and generator_path.is_file()):
                missing = emotion_path if not emotion_path.is_file() else generator_path
                return [SceneProblem(("models",), f"model {missing} is missing; the mirror will only play its "
                                     "attract scene", warning=True)]
            labels = EmotionClassifier(emotion_path, threads=1).labels
            classes = Generator(generator_path, threads=1).classes
            mapping_matrix(self.mapping or DEFAULT_MAPPING, labels, classes)
        except MappingError as exc:
            return [SceneProblem(("mapping",), str(exc))]
        except ModelContractError as exc:
            # A damaged model is a runtime fault like a missing one, not a mistake in the show: the mirror
            # plays its attract scene (installation/scenes/emotion_mirror/scene.py), so a kiosk keeps showing art.
            # the cause is clipped, not the consequence: the message cap must not cut what happens next
            return [SceneProblem(("models",), f"{clip(str(exc), 160)}; the mirror will only play its attract scene",
                                 warning=True)]
        return []
