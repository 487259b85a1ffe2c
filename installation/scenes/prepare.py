"""Preparation: the work a show needs before it plays and that validation must not do (computing a
collection's order: image features, the GNN), run by the player before the first frame or, for a show
reloaded while one plays, on a thread of its own so that the render loop never waits for it.

Every scene's parameters have ``prepare()`` and ``needs_preparation`` (:class:`installation.show.SceneParams`;
the work is in e.g. :meth:`installation.scenes.gradual_change.params.GradualChangeParams.prepare`);
parameters nested in others (an emotion mirror's ``attract`` scene) are found too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)


def _params_tree(params: Any) -> Iterator[Any]:
    """``params`` and every scene's parameters nested in its fields (depth-first)."""
    yield params
    if isinstance(params, BaseModel):
        for name in type(params).model_fields:
            value = getattr(params, name, None)
            if isinstance(value, BaseModel) and hasattr(value, "type"):
                yield from _params_tree(value)


def prepare_show(show: Any, progress: bool = True) -> None:
    """Prepare every cue's scene (and nested scenes) of ``show``; a failure is logged by the scene and
    leaves it playable (e.g. in file-name order), never raised."""
    for cue in show.cues:
        for params in _params_tree(cue.scene):
            prepare = getattr(params, "prepare", None)
            if prepare is None:
                continue
            try:
                prepare(progress=progress)
            except Exception:  # a bug in one scene's preparation must not stop the show
                log.exception("cue %s: preparing its scene failed; it plays unprepared", cue.id)


def needs_preparation(show: Any) -> bool:
    """Whether any scene of ``show`` has preparation to do (parameters with ``needs_preparation`` true)."""
    return any(getattr(p, "needs_preparation", False) for cue in show.cues for p in _params_tree(cue.scene))


class Preparation:
    """:func:`prepare_show` on a daemon thread (a show reloaded while another plays); ``done`` when over.
    A show with nothing to prepare starts no thread and is done at once."""

    def __init__(self, show: Any) -> None:
        self._thread: threading.Thread | None = None
        if needs_preparation(show):
            self._thread = threading.Thread(target=prepare_show, args=(show, False), name="prepare-show",
                                            daemon=True)
            self._thread.start()

    @property
    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done
