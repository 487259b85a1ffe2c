"""Load a show file: read it, parse YAML with line numbers, validate, check across cues, fill in defaults.

``load_show(path)`` returns a complete :class:`Show` or raises :class:`ShowError` listing every error;
``check_show(path)`` returns a :class:`ShowReport` instead of raising (for ``installation validate``).
Scene types come from the registry (:mod:`installation.show.scene_types`): import :mod:`installation.scenes`
before validating, which registers the built-in ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from installation.config import (
    ConfigError,
    ConfigIssue,
    did_you_mean,
    format_path,
    load_yaml,
    locate,
    one_of_message,
    read_text_file,
    sort_issues,
    to_plain,
    validation_issues,
)
from installation.show.scene_types import SceneParams, scene_types
from installation.show.schema import Show, parse_cue_id, parse_follow
from installation.show.wall import wall_problems

log = logging.getLogger(__name__)

MAX_ERRORS = 50  # issues listed per file; a generated file with 10,000 bad cues needs the first few
REFERENCE_SIZE = (1280, 720)  # a show without display.size must draw here (`render`'s default size)


class ShowError(ConfigError):
    """A show file is invalid. ``issues`` holds every error found (not just the first); ``str()`` is one per line."""


@dataclass
class ShowReport:
    """What checking one show file found: the show (when valid), its errors and its warnings."""

    file: str
    show: Show | None = None
    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.show is not None and not self.errors


def auto_cue_id(index: int) -> str:
    """The id a cue gets when it has none: ``cue1``, ``cue2``... by position."""
    return f"cue{index + 1}"


def _issue(file: str, tree: Any, loc: tuple[str | int, ...], message: str, warning: bool = False) -> ConfigIssue:
    line, path = locate(tree, loc)
    return ConfigIssue(file, line, format_path(path), message, warning)


def _raw_cue_ids(cues: list[Any]) -> list[str | None]:
    """Each cue's id as written (or its automatic id); ``None`` where the id itself is invalid."""
    ids: list[str | None] = []
    for i, cue in enumerate(cues):
        raw = cue.get("id") if isinstance(cue, dict) else None
        if raw is None:
            ids.append(auto_cue_id(i))
            continue
        try:
            value = parse_cue_id(raw)
        except ValueError:
            value = None
        ids.append(value if isinstance(value, str) else None)
    return ids


def _check_cues(tree: dict, file: str) -> list[ConfigIssue]:
    """Rules that span cues: unique ids, goto targets, a duration or ``until: done`` for each cue."""
    cues = tree.get("cues")
    if not isinstance(cues, list):
        return []
    defaults = tree.get("defaults")
    default_duration = isinstance(defaults, dict) and defaults.get("duration") is not None
    ids = _raw_cue_ids(cues)
    issues: list[ConfigIssue] = []
    first_seen: dict[str, int] = {}
    for i, cue_id in enumerate(ids):
        if cue_id is None:
            continue
        if cue_id in first_seen:
            j = first_seen[cue_id]
            given = "" if isinstance(cues[i], dict) and "id" in cues[i] else " (given automatically)"
            line_j, _ = locate(tree, ("cues", j))
            loc = ("cues", i, "id") if given == "" else ("cues", i)
            issues.append(_issue(file, tree, loc,
                                 f"duplicate cue id '{cue_id}'{given}, already used by cues[{j}] at line {line_j}"))
        else:
            first_seen[cue_id] = i
    known = [c for c in ids if c is not None]
    for i, cue in enumerate(cues):
        if not isinstance(cue, dict):
            continue
        follow = cue.get("follow")
        try:
            follow = parse_follow(follow) if isinstance(follow, str) else None
        except ValueError:
            follow = None
        target = follow[5:] if follow and follow.startswith("goto:") else ""
        has_duration, has_until = cue.get("duration") is not None, cue.get("until") is not None
        if has_duration and has_until:
            issues.append(_issue(file, tree, ("cues", i, "until"), "give either 'duration' or 'until: done', not both"))
        elif not has_duration and not has_until and not default_duration and follow != "hold":
            issues.append(_issue(file, tree, ("cues", i),
                                 "needs 'duration: SECONDS' or 'until: done' (or a defaults.duration)"))
        if target and target not in known:
            issues.append(_issue(file, tree, ("cues", i, "follow"),
                                 f"no cue with id '{target}'{did_you_mean(target, known)}"))
    return issues


def _check_scenes(tree: dict, file: str, base_dir: Path,
                  registry: dict[str, type[SceneParams]]) -> tuple[dict[int, SceneParams], list[ConfigIssue]]:
    """Validate each cue's scene with its scene type's model, then let it inspect the disk."""
    cues = tree.get("cues")
    scenes: dict[int, SceneParams] = {}
    issues: list[ConfigIssue] = []
    if not isinstance(cues, list):
        return scenes, issues
    for i, cue in enumerate(cues):
        scene = cue.get("scene") if isinstance(cue, dict) else None
        if isinstance(scene, str):
            scene = {"type": scene}  # `scene: solid` is short for `scene: {type: solid}`
        if not isinstance(scene, dict) or not isinstance(scene.get("type"), str):
            continue  # reported by the show model: not a mapping, or no text `type`
        model = registry.get(str(scene["type"]))
        prefix = ("cues", i, "scene")
        if model is None:
            issues.append(_issue(file, tree, (*prefix, "type"), one_of_message(str(scene["type"]), list(registry))))
            continue
        try:
            params = model.model_validate(to_plain(scene), context={"base_dir": base_dir})
        except ValidationError as exc:
            issues.extend(validation_issues(exc, model, tree, file, prefix))
            continue
        for problem in params.inspect():
            issues.append(_issue(file, tree, (*prefix, *problem.loc), problem.message, problem.warning))
        scenes[i] = params
    return scenes, issues


def _complete(show: Show, scenes: dict[int, SceneParams]) -> None:
    """Fill each cue from the defaults so that consumers never look at ``show.defaults``."""
    for i, cue in enumerate(show.cues):
        cue.scene = scenes[i]
        cue.id = cue.id or auto_cue_id(i)
        cue.transition = cue.transition or show.defaults.transition.model_copy()
        if cue.post is None:
            cue.post = [step.model_copy() for step in show.defaults.post]
        if cue.duration is None and not cue.until_done:
            cue.duration = show.defaults.duration


def _size_issues(tree: dict, file: str, show: Show, scenes: dict[int, SceneParams]) -> list[ConfigIssue]:
    """Each scene must draw at the show's display.size (or, without one, at :data:`REFERENCE_SIZE`)."""
    size = show.display.size if show.display.size else REFERENCE_SIZE  # pydantic made it a tuple already
    if show.wall is not None and show.wall.canvas is not None:  # a wall's scenes draw the whole canvas
        return [_issue(file, tree, ("cues", i, "scene", *p.loc), p.message + " (on the wall's canvas)")
                for i, params in scenes.items() for p in params.size_problems(show.wall.canvas)]

    note = "" if show.display.size else f" ({size[0]}x{size[1]} is the size used when display.size is not given)"
    return [_issue(file, tree, ("cues", i, "scene", *p.loc), p.message + note)
            for i, params in scenes.items() for p in params.size_problems(size)]


def size_problems(show: Show, size: tuple[int, int]) -> list[str]:
    """Why ``show`` cannot be drawn at ``size`` (for ``--size``): ``cue 'grid': ...`` per problem."""
    return [f"cue '{cue.id}': {p.message}" for cue in show.cues for p in cue.scene.size_problems(size)]


def _capped(issues: list[ConfigIssue], file: str) -> list[ConfigIssue]:
    errors = [i for i in issues if not i.warning]
    if len(errors) <= MAX_ERRORS:
        return issues
    kept = errors[:MAX_ERRORS]
    more = ConfigIssue(file, kept[-1].line, "", f"... and {len(errors) - MAX_ERRORS} more errors (fix these first)")
    return [i for i in issues if i.warning][:MAX_ERRORS] + kept + [more]


def check_text(text: str, file: str = "<string>", base_dir: Path | str | None = None) -> ShowReport:
    """Check show-script ``text``; paths in it resolve against ``base_dir`` (default: the current folder)."""
    registry = scene_types()  # first: a caller that registered no scene types is a bug, said at once
    report = ShowReport(file)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    tree, issues = load_yaml(text, file)
    if tree is None and not issues:
        issues = [ConfigIssue(file, 1, "", "empty show file (a show needs at least 'version: 1' and 'cues:')")]
    if tree is not None and not isinstance(tree, dict):
        line = getattr(tree, "line", 1) or 1
        issues.append(ConfigIssue(file, line, "", "a show file is a mapping of keys (version:, display:, cues:), "
                                f"not {'a list' if isinstance(tree, list) else 'a single value'}"))
    if isinstance(tree, dict):
        show = None
        try:
            show = Show.model_validate(to_plain(tree))
        except ValidationError as exc:
            issues.extend(validation_issues(exc, Show, tree, file))
        issues.extend(_check_cues(tree, file))
        issues.extend(_issue(file, tree, ("wall", *loc), message) for loc, message in wall_problems(tree.get("wall")))
        scenes, scene_issues = _check_scenes(tree, file, base, registry)
        issues.extend(scene_issues)
        if show is not None:
            issues.extend(_size_issues(tree, file, show, scenes))
        if show is not None and not any(not i.warning for i in issues):
            _complete(show, scenes)
            report.show = show
    for issue in _capped(sort_issues(issues), file):
        (report.warnings if issue.warning else report.errors).append(issue)
    if report.errors:
        report.show = None
    elif report.show is not None:
        report.show._warnings = list(report.warnings)
    return report


def check_show(path: str | Path, base_dir: str | Path | None = None) -> ShowReport:
    """Check one show file; never raises for a bad file (missing, folder, binary, non-UTF-8, invalid).
    Relative paths in it resolve against ``base_dir``, by default the file's own folder (the kiosk plays a
    copy of a show kept elsewhere, whose paths still mean what they meant next to the original)."""
    file = str(path)
    text, problem = read_text_file(Path(path), file)
    if problem is not None or text is None:
        return ShowReport(file, errors=[problem] if problem else [])
    base = Path(base_dir).absolute() if base_dir is not None else Path(path).absolute().parent
    report = check_text(text, file, base)
    if report.show is not None:
        report.show._path = Path(path)
        report.show._base_dir = base
    return report


def load_show(path: str | Path) -> Show:
    """Load and validate a show file: a complete :class:`Show`, or :class:`ShowError` with every error."""
    report = check_show(path)
    for warning in report.warnings:
        log.warning("%s", warning)
    if not report.ok or report.show is None:
        raise ShowError(report.errors)
    return report.show


def load_show_text(text: str, file: str = "<string>", base_dir: Path | str | None = None) -> Show:
    """Like :func:`load_show` for text in memory (tests, a live edit arriving over the network)."""
    report = check_text(text, file, base_dir)
    for warning in report.warnings:
        log.warning("%s", warning)
    if not report.ok or report.show is None:
        raise ShowError(report.errors)
    return report.show
