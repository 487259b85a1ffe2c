"""A YAML loader that remembers where every node came from (in the spirit of Home Assistant's loader).

Mappings load as :class:`NodeDict`, sequences as :class:`NodeList`, strings, integers and floats as
:class:`NodeStr`, :class:`NodeInt`, :class:`NodeFloat`; each carries ``.line`` (1-based) and ``.file``.
``true``/``false``/``null`` cannot be subclassed, so every container also keeps the line of each of its
entries: ``NodeDict.key_lines[key]`` and ``NodeList.item_lines[i]``. Duplicate keys are errors.

Reading is bounded (a show edit may come from anyone who can write the file): at most :data:`MAX_DEPTH`
levels of nesting and :data:`MAX_NODES` values, counting every value an alias repeats, so deep nesting
and "billion laughs" end as one ``FILE:LINE`` issue instead of a RecursionError or gigabytes of memory.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from installation.config.issues import ConfigIssue, Loc, format_path

log = logging.getLogger(__name__)

_MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_DEPTH = 64  # levels of nesting (a show needs about 8); PyYAML's composer recurses per level
MAX_NODES = 100_000  # values in the tree as built, aliases expanded (a large show has a few thousand)
MAX_NUMBER_CHARS = 40  # an integer written with more characters is no count, size or seed


class _LimitError(Exception):
    """The document is over one of the limits above: reported as an issue at ``line``."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class NodeStr(str):
    """A string that knows its line."""

    line: int = 0
    file: str = ""


class NodeInt(int):
    """An integer that knows its line."""

    line: int = 0
    file: str = ""


class NodeFloat(float):
    """A float that knows its line."""

    line: int = 0
    file: str = ""


class NodeDict(dict):
    """A mapping that knows its line and the line of each of its keys."""

    line: int = 0
    file: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[str, int] = {}


class NodeList(list):
    """A sequence that knows its line and the line of each item."""

    line: int = 0
    file: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose nodes carry line numbers; problems are collected in ``self.problems``."""

    def __init__(self, stream: str, file: str = "<string>") -> None:
        super().__init__(stream)
        self.file = file
        # (container, key, line, message): paths are filled in once the whole tree exists
        self.problems: list[tuple[Any, str | None, int, str]] = []
        self._depth = 0
        self._composed = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """PyYAML's composer, with the nesting depth and the node count bounded while it reads."""
        if self.check_event(AliasEvent):  # an alias adds no new node here; check_expansion counts what it repeats
            return super().compose_node(parent, index)
        line = self.peek_event().start_mark.line + 1
        self._composed += 1
        if self._composed > MAX_NODES:
            raise _LimitError(line, f"too many values: a show file holds at most {MAX_NODES:,}")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LimitError(line, f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        check_expansion(node)
        return self.construct_document(node)

    def _stamp(self, value: Any, node: Node) -> Any:
        value.line = _line(node)
        value.file = self.file
        return value

    def construct_line_str(self, node: ScalarNode) -> NodeStr:
        return self._stamp(NodeStr(self.construct_scalar(node)), node)

    def construct_line_int(self, node: ScalarNode) -> NodeInt:
        # long digit runs are slow to convert (base 60 quadratically) or refused past 4300 digits
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            raise _LimitError(_line(node), f"number too long (more than {MAX_NUMBER_CHARS} characters)")
        value = self.construct_yaml_int(node)
        if value.bit_length() > 64:
            raise _LimitError(_line(node), "number too large (no setting of a show needs more than 64 bits)")
        return self._stamp(NodeInt(value), node)

    def construct_line_float(self, node: ScalarNode) -> NodeFloat:
        return self._stamp(NodeFloat(self.construct_yaml_float(node)), node)

    def construct_line_seq(self, node: SequenceNode) -> NodeList:
        out: NodeList = self._stamp(NodeList(), node)
        for child in node.value:
            out.append(self.construct_object(child, deep=True))
            out.item_lines.append(_line(child))
        return out

    def construct_line_map(self, node: MappingNode) -> NodeDict:
        out: NodeDict = self._stamp(NodeDict(), node)
        seen: dict[str, int] = {}
        duplicates: list[tuple[str, int, int]] = []
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = str(key_node.value)
            if key in seen:
                duplicates.append((key, _line(key_node), seen[key]))
            else:
                seen[key] = _line(key_node)
        self.flatten_mapping(node)  # `<<: *anchor` merges; later keys override merged ones, which is no duplicate
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problems.append((out, None, _line(key_node), "keys must be plain text, not a list or mapping"))
                continue
            # keys are the text as written: `on:` or `1:` stay "on" and "1" instead of YAML 1.1's True and 1
            key = NodeStr(key_node.value)
            self._stamp(key, key_node)
            out[key] = self.construct_object(value_node, deep=True)
            out.key_lines[key] = _line(key_node)
        for key, line, first in duplicates:
            self.problems.append((out, key, line, f"duplicate key '{key}' (first defined at line {first})"))
        return out


LineLoader.add_constructor("tag:yaml.org,2002:str", LineLoader.construct_line_str)
LineLoader.add_constructor("tag:yaml.org,2002:int", LineLoader.construct_line_int)
LineLoader.add_constructor("tag:yaml.org,2002:float", LineLoader.construct_line_float)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_line_seq)
LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_line_map)


def check_expansion(root: Node) -> None:
    """Raise :class:`_LimitError` when the tree built from ``root`` would be deeper than :data:`MAX_DEPTH` or
    hold more than :data:`MAX_NODES` values. Aliases share nodes, so (size, height) is memoised per node:
    linear time however much the aliases would repeat. An alias inside its own anchor is a cycle: too deep."""
    known: dict[int, tuple[int, int]] = {}

    def too_deep(node: Node) -> _LimitError:
        return _LimitError(_line(node), f"nested more than {MAX_DEPTH} levels deep through aliases "
                           "(or an alias inside its own anchor)")

    def measure(node: Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:  # only a cycle gets here: memoised heights are all within the limit
            raise too_deep(node)
        if id(node) in known:
            return known[id(node)]
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        measured = [measure(child, depth + 1) for child in children]
        size = 1 + sum(m[0] for m in measured)
        height = 1 + max((m[1] for m in measured), default=0)
        if height > MAX_DEPTH:
            raise too_deep(node)
        if size > MAX_NODES:
            raise _LimitError(_line(node), f"aliases here expand to more than {MAX_NODES:,} values "
                              "(a 'billion laughs' file?)")
        known[id(node)] = (size, height)
        return size, height

    measure(root, 1)


def _paths(root: Any) -> dict[int, Loc]:
    """id(container) -> its key path, for every mapping and sequence in the tree."""
    found: dict[int, Loc] = {}
    stack: list[tuple[Any, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) in found:
            continue
        found[id(node)] = loc
        if isinstance(node, dict):
            stack.extend((v, (*loc, k)) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(node) if isinstance(v, dict | list))
    return found


MAX_TAB_ISSUES = 20  # a file indented with tabs throughout needs one hint, not a line per line


def _tab_issues(text: str, file: str) -> list[ConfigIssue]:
    issues = []
    lines = last = 0
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            lines, last = lines + 1, number
            if lines <= MAX_TAB_ISSUES:
                issues.append(ConfigIssue(file, number, "", "tab used for indentation (YAML needs spaces)"))
    if lines > MAX_TAB_ISSUES:
        issues.append(ConfigIssue(file, last, "", f"{lines - MAX_TAB_ISSUES} more lines, up to this one, "
                                "are indented with tabs"))
    return issues


def _syntax_issue(exc: yaml.YAMLError, text: str, file: str) -> ConfigIssue:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "cannot read this"
        if "'\\t'" in problem:
            problem = "tab character where YAML needs spaces"
        if problem.startswith("expected <block end>") and exc.context_mark is not None:
            block = exc.context_mark.line + 1
            return ConfigIssue(file, line, "", "YAML syntax error: indentation does not line up with the lines above "
                             f"(the block that starts at line {block})")
        if problem == "mapping values are not allowed here":
            problem += " (a ':' inside a value? put the value in quotes)"
        message = f"YAML syntax error: {problem}"
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        return ConfigIssue(file, line, "", message)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return ConfigIssue(file, line, "", f"not a text file: character #x{exc.character:04x} is not allowed in YAML")
    return ConfigIssue(file, 1, "", f"YAML syntax error: {exc}")


def load_yaml(text: str, file: str = "<string>") -> tuple[Any, list[ConfigIssue]]:
    """Parse ``text``: returns the tree of Node* objects (or ``None``) and the problems found while reading it.

    Tabs in indentation, syntax errors and duplicate keys come back as issues, never as exceptions.
    """
    tabs = _tab_issues(text, file)
    if tabs:
        return None, tabs
    try:
        loader = LineLoader(text, file)
        try:
            root = loader.get_single_data()
        finally:
            loader.dispose()
    except _LimitError as exc:
        return None, [ConfigIssue(file, exc.line, "", exc.message)]
    except yaml.YAMLError as exc:
        return None, [_syntax_issue(exc, text, file)]
    paths = _paths(root)
    issues = []
    for container, key, line, message in loader.problems:
        loc = paths.get(id(container), ())
        issues.append(ConfigIssue(file, line, format_path((*loc, key) if key is not None else loc), message))
    return root, issues


def to_plain(value: Any) -> Any:
    """The YAML tree as plain ``dict``/``list``/``str``/``int``/``float`` (no line-carrying subclasses), the form
    pydantic validates; the line-carrying tree stays beside it to place the errors."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value
