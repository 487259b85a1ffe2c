"""The emotion mirror's logic: smoothing, hysteresis, presence, the frame -> emotion pipeline, and the
emotion -> style mixture -> painting worker."""

from installation.emotion.art import (
           DEFAULT_MAPPING,
           MappingError,
           Painting,
           PaintRequest,
           PaintWorker,
           blend,
           mapping_matrix,
           paint,
)
from installation.emotion.pipeline import EmotionPipeline, FaceReading, Reading
from installation.emotion.smoothing import EmaSmoother, Hysteresis, Presence

__all__ = ["DEFAULT_MAPPING", "EmaSmoother", "EmotionPipeline", "FaceReading", "Hysteresis", "MappingError",
           "PaintRequest", "PaintWorker", "Painting", "Presence", "Reading", "blend", "mapping_matrix", "paint"]
