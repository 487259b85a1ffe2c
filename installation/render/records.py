"""The per-cell instance record the cell shader draws: named columns instead of offsets into a float row.

The schedule writes records (``records["progress"][i] = ...``), the canvas uploads them as they are: the
layout below is byte for byte the vertex attributes of ``shaders/cell.glsl``, so the two must change
together.
"""

from __future__ import annotations

import numpy as np

CELL_RECORD = np.dtype([
    ("rect", np.float32, 4),  # in_rect: x, y, width, height in target pixels, origin top-left
    ("from_layer", np.float32),  # in_layers.x: array layer it comes from; < 0: from_color
    ("to_layer", np.float32),  # in_layers.y
    ("progress", np.float32),  # in_state.x: eased, 0..1
    ("kind", np.float32),  # in_state.y: transition id
    ("seed", np.float32),  # in_state.z
    ("unused", np.float32),  # in_state.w
    ("params", np.float32, 4),  # in_params: the transition's options
    ("from_color", np.float32, 3),  # in_from_color: 0..1 RGB
    ("to_color", np.float32, 3),  # in_to_color
])
GL_FORMAT = "4f 2f 4f 4f 3f 3f/i"
GL_ATTRIBUTES = ("in_rect", "in_layers", "in_state", "in_params", "in_from_color", "in_to_color")
FLOATS = CELL_RECORD.itemsize // 4


def new_records(count: int) -> np.ndarray:
    return np.zeros(count, CELL_RECORD)


def as_floats(records: np.ndarray) -> np.ndarray:
    """The same memory as (N, FLOATS) float32, for comparing records and uploading them."""
    return records.view(np.float32).reshape(len(records), FLOATS)
