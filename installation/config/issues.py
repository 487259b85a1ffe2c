"""Problems found in a configuration file (a show, a schedule): one :class:`ConfigIssue` per error or warning,
formatted ``FILE:LINE key.path: message``, and :class:`ConfigError`, which carries every issue of a file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]

MAX_MESSAGE_CHARS = 300  # a whole issue line stays readable in a terminal or a log, whatever the file held
MAX_PATH_CHARS = 160  # a key path built from absurdly long keys
MAX_QUOTE_CHARS = 80  # a value or key quoted inside a message


def clip(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: a 1 MB line in a file must not become a 1 MB error."""
    text = str(text)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def format_path(loc: Iterable[str | int]) -> str:
    """``('cues', 2, 'transition', 'seconds')`` -> ``cues[2].transition.seconds``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a file. ``line`` is 1-based; ``path`` is a key path such as ``cues[2].duration``."""

    file: str
    line: int
    path: str
    message: str
    warning: bool = False

    def __post_init__(self) -> None:
        # the last line of defence: whatever built the message, an issue never quotes megabytes back
        object.__setattr__(self, "message", clip(self.message, MAX_MESSAGE_CHARS))
        object.__setattr__(self, "path", clip(self.path, MAX_PATH_CHARS))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        text = f"warning: {self.message}" if self.warning else self.message
        return f"{where} {self.path}: {text}" if self.path else f"{where}: {text}"


def sort_issues(issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
    """Issues in reading order (file, line, path), duplicates removed."""
    unique = dict.fromkeys(issues)
    return sorted(unique, key=lambda i: (i.file, i.line, i.path, i.message))


class ConfigError(Exception):
    """A file is invalid. ``issues`` holds every error found (not just the first); ``str()`` is one per line."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = sort_issues(issues)
        super().__init__("\n".join(str(i) for i in self.issues))
