"""The configuration layer, the bottom of the house: reading YAML files people write (shows, schedules) with
a line number on every value, bounded so a hostile file cannot hurt, and reporting problems as
``FILE:LINE key.path: message``; plus the value rules (colour, size, seconds) that files and the command
line share. It imports nothing else of ``installation``; anything may import it.

    text, problem = read_text_file(path, str(path), "schedule file")   # bounded: 1 MiB, regular files only
    tree, issues = load_yaml(text, str(path))                          # Node* values carry .line
    model.model_validate(to_plain(tree))                               # ValidationError ->
    issues += validation_issues(exc, Model, tree, str(path))           # ConfigIssue lines, "did you mean"

Modules: :mod:`~installation.config.issues` (ConfigIssue, ConfigError), :mod:`~installation.config.text_file`
(the bounded reader), :mod:`~installation.config.yaml_loader` (YAML with lines), :mod:`~installation.config.values`
(value rules and pydantic field types), :mod:`~installation.config.messages` (pydantic errors -> issues).
"""

from installation.config.issues import ConfigError, ConfigIssue, Loc, clip, format_path, sort_issues
from installation.config.messages import did_you_mean, locate, one_of_message, validation_issues
from installation.config.text_file import MAX_FILE_BYTES, read_text_file
from installation.config.values import (
    MAX_SCREEN,
    MAX_SECONDS,
    MAX_SEED,
    MAX_SIDE,
    MIN_DURATION,
    MIN_SECONDS,
    Colour,
    Duration,
    Rgb,
    Seconds,
    Seed,
    Size,
    StrictModel,
    Wait,
    bounded_seconds,
    colour_floats,
    custom_error,
    describe,
    parse_colour,
    parse_size,
    seconds_problem,
    size_from_text,
)
from installation.config.yaml_loader import load_yaml, to_plain

__all__ = [
    "MAX_FILE_BYTES", "MAX_SCREEN", "MAX_SECONDS", "MAX_SEED", "MAX_SIDE", "MIN_DURATION", "MIN_SECONDS", "Colour",
    "ConfigError", "ConfigIssue", "Duration", "Loc", "Rgb", "Seconds", "Seed", "Size", "StrictModel", "Wait",
    "bounded_seconds", "clip", "colour_floats", "custom_error", "describe", "did_you_mean", "format_path",
    "load_yaml", "locate", "one_of_message", "parse_colour", "parse_size", "read_text_file", "seconds_problem",
    "size_from_text", "sort_issues", "to_plain", "validation_issues",
]
