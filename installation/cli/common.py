"""Helpers several commands share: the default show, loading a show with its problems reported, size checks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.show import Show

log = logging.getLogger(__name__)


def error(message: object) -> None:
    """One line on stderr, ``error: ...``: what every command prints before exit 2 (or 1)."""
    print(f"error: {message}", file=sys.stderr)


def default_show() -> Path:
    """The show ``installation run`` plays with no argument (needs no camera)."""
    return Path(__file__).resolve().parents[2] / "shows" / "gradual_change.yaml"


def load_show_or_report(path: str | Path, base_dir: str | Path | None = None) -> Show | None:
    """The valid show, or None after printing its problems (FILE:LINE key.path: message) to stderr."""
    import installation.scenes  # noqa: F401  registers the scene types shows are checked against
    from installation.show import check_show

    try:
        report = check_show(path, base_dir)
    except Exception as exc:  # a bug of ours must still not print a traceback to an operator
        log.debug("check %s", path, exc_info=True)
        print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
        return None
    for issue in report.warnings + report.errors:
        print(issue, file=sys.stderr)
    return report.show if report.ok else None


def size_fits(show: Show, size: tuple[int, int] | None, option: str = "--size") -> bool:
    """True when every scene of ``show`` can be drawn at ``size``; else print why in one line (exit 2 follows)."""
    from installation.show.load import size_problems

    if size is None:
        return True
    problems = size_problems(show, size)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        print(f"error: {option} {size[0]}x{size[1]}: {problems[0]}{more}", file=sys.stderr)
    return not problems


def show_size(show: Show) -> tuple[int, int] | None:
    """The show's ``display.size``, or None when it leaves the size to the screen."""
    return (int(show.display.size[0]), int(show.display.size[1])) if show.display.size else None
