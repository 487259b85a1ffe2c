"""Shows and media from the browser: the cue list of the show that plays, a new version of the show file,
and images added to a collection.

**A new show version** (:func:`upload_show`) is written to a private temporary folder under the show's own
name and checked there exactly as a hot reload is (installation/kiosk/validation.py: ``installation
validate`` in a child process with a time and memory limit, relative paths resolved next to the real show).
An invalid version never touches the show file: its errors come back as ``FILE:LINE key.path: message``
naming the show file. A valid one replaces the file atomically (the previous version is copied into the
state folder first, the last :data:`KEEP_BACKUPS`), then an operator ``reload`` runs (checked once more by the
supervisor, which also keeps it as the last good version once it has played): the player switches at the
next cue boundary.

**An image** (:func:`add_image`) goes into one of the collections the show names (``collection:`` of a
``gradual_change`` cue), chosen by its index, never by a path from the browser. Its name must be a plain
file name with an image suffix (no folders, no ``..``, no leading dot), it must not exist yet, and its bytes
must read as an image (installation/imagefile.py: header, size limits, then a decode). It is written under a
temporary name and linked into place, so a half-written image never shows.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_SHOW_BYTES = 1 << 20  # a show file (a large one is a few KiB)
MAX_IMAGE_BYTES = 32 << 20  # one uploaded image
KEEP_BACKUPS = 10
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,119}$")


@dataclass
class ShowInfo:
    """What the console shows about the show that plays (from its last good copy)."""

    name: str | None = None
    cues: list[dict[str, Any]] = field(default_factory=list)
    collections: list[Path] = field(default_factory=list)
    error: str | None = None
    wall: str | None = None  # the show's ``wall: {name: ...}``, the default wall of the fleet page

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "cues": self.cues, "error": self.error,
                "collections": [{"index": i, "name": p.name, "path": str(p)} for i, p in enumerate(self.collections)]}


def show_info(path: Path, base_dir: Path) -> ShowInfo:
    """Cue ids, scene types, durations and collections of the show at ``path`` (a copy that validated, so
    reading it here is safe; the config layer bounds the reading anyway). Relative collection paths are
    resolved against ``base_dir``, the original show's folder."""
    from installation.config.text_file import read_text_file
    from installation.config.yaml_loader import load_yaml, to_plain

    text, issue = read_text_file(path, str(path))
    if text is None:
        return ShowInfo(error=str(issue) if issue else f"{path}: cannot read")
    tree, issues = load_yaml(text, str(path))
    if issues or not isinstance(tree, dict):
        return ShowInfo(error=str(issues[0]) if issues else f"{path}: not a show")
    tree = to_plain(tree)
    cues: list[dict[str, Any]] = []
    folders: list[Path] = []
    for cue in tree.get("cues") or []:
        if not isinstance(cue, dict):
            continue
        scene: dict[str, Any] = cue["scene"] if isinstance(cue.get("scene"), dict) else {}
        cues.append({"id": str(cue.get("id", len(cues))), "scene": str(scene.get("type", "")),
                     "duration": cue.get("duration"), "follow": cue.get("follow")})
        folder = scene.get("collection")
        if isinstance(folder, str) and folder:
            resolved = (base_dir / Path(folder).expanduser()).resolve()
            if resolved not in folders:
                folders.append(resolved)
    name = tree.get("name")
    wall = tree.get("wall") if isinstance(tree.get("wall"), dict) else {}
    return ShowInfo(name=str(name) if name is not None else path.stem, cues=cues, collections=folders,
                    wall=str(wall["name"]) if wall.get("name") else None)


@dataclass
class Upload:
    """An upload's outcome: ``ok``, ``errors`` (one line each, ``FILE:LINE ...`` for a show) and a note."""

    ok: bool
    errors: list[str] = field(default_factory=list)
    note: str = ""
    code: int = 200

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": self.errors, "note": self.note}


def check_show_bytes(show: Path, data: bytes) -> list[str]:
    """Errors of ``data`` as a new version of ``show`` (none: valid), checked as a hot reload is, in a child
    process, with the real show's folder as its base. The messages name ``show``, not the temporary copy."""
    from installation.kiosk.validation import check_show_isolated

    if len(data) > MAX_SHOW_BYTES:
        return [f"{show}:1: too large ({len(data)} bytes; at most {MAX_SHOW_BYTES})"]
    with tempfile.TemporaryDirectory(prefix="installation-console-") as folder:
        copy = Path(folder) / show.name
        copy.write_bytes(data)
        verdict = check_show_isolated(copy, show.absolute().parent)
    return [e.replace(str(copy), str(show)) for e in verdict.errors]


def _backup(show: Path, state_dir: Path | None) -> None:
    """Keep the version about to be replaced (best effort: a full disk must not stop an update)."""
    if state_dir is None or not show.is_file():
        return
    folder = state_dir / "console-backups"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(show, folder / f"{show.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        kept = sorted(folder.glob(f"{show.name}.*"))
        for old in kept[:-KEEP_BACKUPS]:
            old.unlink(missing_ok=True)


def replace_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` next to ``target`` and rename it over ``target`` (one step for every reader)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".upload", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def upload_show(show: Path, data: bytes, state_dir: Path | None) -> Upload:
    """Check ``data``; when valid, put it in place of ``show`` (the caller then asks for a reload)."""
    if not data.strip():
        return Upload(False, [f"{show}:1: the uploaded file is empty"], code=400)
    errors = check_show_bytes(show, data)
    if errors:
        return Upload(False, errors, "nothing changed: the show that plays goes on", code=400)
    try:
        _backup(show, state_dir)
        replace_atomically(show, data)
    except OSError as exc:
        return Upload(False, [f"{show}: cannot write the show file: {exc.strerror or exc}"],
                      "nothing changed: the show that plays goes on", code=500)
    return Upload(True, [], "saved")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not acceptable as a new image's file name (None: it is)."""
    from installation.collection import IMAGE_SUFFIXES

    if not name:
        return "no file name"
    if "/" in name or "\\" in name or "\x00" in name or name in (".", "..") or ".." in name:
        return f"{name[:80]!r}: a plain file name, without folders or '..'"
    if not SAFE_NAME.match(name):
        return (f"{name[:80]!r}: use letters, digits, spaces and . _ - ( ) + (at most 120 characters, not starting "
                "with a dot)")
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        return f"{name[:80]!r}: not an image name (use one of {', '.join(sorted(IMAGE_SUFFIXES))})"
    return None


def add_image(folder: Path, name: str, data: bytes) -> Upload:
    """Check and add one image to the collection ``folder``."""
    from installation.imagefile import check_image

    problem = name_problem(name)
    if problem:
        return Upload(False, [problem], code=400)
    if len(data) > MAX_IMAGE_BYTES:
        return Upload(False, [f"{name}: {len(data)} bytes, more than {MAX_IMAGE_BYTES >> 20} MiB"], code=413)
    if not folder.is_dir():
        return Upload(False, [f"the collection {folder} is not a folder here"], code=404)
    target = folder / name
    if target.resolve().parent != folder.resolve():
        return Upload(False, [f"{name!r}: not inside the collection"], code=400)
    if target.exists() or target.is_symlink():
        return Upload(False, [f"{name}: a file of that name is already in {folder.name}; rename it first"], code=409)
    why = check_image(bytes(data))
    if why:
        return Upload(False, [f"{name}: refused: {why}"], code=400)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=Path(name).suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.link(tmp, target)  # fails if the name appeared meanwhile: never overwrites
    except FileExistsError:
        return Upload(False, [f"{name}: a file of that name is already in {folder.name}"], code=409)
    except OSError as exc:
        return Upload(False, [f"{name}: cannot write into {folder}: {exc.strerror or exc}"], code=500)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return Upload(True, [], f"added {name} to {folder.name}; it shows when the cue starts again (or after Reload)")
