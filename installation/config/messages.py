"""Turn pydantic validation errors into short, human :class:`ConfigIssue` lines placed on the right YAML line,
with "did you mean" hints for unknown keys and values."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from installation.config.issues import ConfigIssue, Loc, clip, format_path
from installation.config.values import describe
from installation.config.yaml_loader import NodeDict, NodeList


def locate(tree: Any, loc: Sequence[str | int]) -> tuple[int, Loc]:
    """Follow ``loc`` through the YAML tree: the line of the deepest node reached and the path as the user sees it.

    Parts of a pydantic location that are not keys in the YAML (union tags such as ``kuwahara``) are dropped;
    a last part that is not there (a missing or unknown key) is kept in the path and takes its parent's line.
    """
    path: list[str | int]
    node, line, path = tree, getattr(tree, "line", 0) or 1, []

    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line) if isinstance(node, NodeDict) else line
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part] if isinstance(node, NodeList) else line
            node = node[part]
            path.append(part)
        elif last and isinstance(node, dict):
            path.append(part)
    return line, tuple(path)


def _members(tp: Any) -> list[Any]:
    """Flatten ``Annotated`` and unions into their member types (``None`` dropped)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [] if tp is type(None) else [tp]


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = get_args(field.annotation) if field is not None else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the mapping at pydantic location ``loc`` (``None`` when unclear)."""
    current: Any = model
    for part in loc:
        members = _members(current)
        if isinstance(part, int):
            seqs = [m for m in members if get_origin(m) in (list, tuple)]
            if not seqs:
                return None
            current = get_args(seqs[0])[0]
            continue
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        tagged = [m for m in models if _tag(m) == part]
        if len(models) > 1 and tagged:
            current = tagged[0]
        elif len(models) == 1 and part in models[0].model_fields:
            current = models[0].model_fields[part].annotation
        else:
            return None
    models = [m for m in _members(current) if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key_message(key: str, allowed: Sequence[str] | None) -> str:
    """``unknown key 'durration' (did you mean 'duration'?)``, or the allowed keys when nothing is close."""
    quoted = clip(key)  # a key can be a whole 1 MB line
    if not allowed:
        return f"unknown key '{quoted}'"
    hint = did_you_mean(key[:200], allowed)
    return f"unknown key '{quoted}'{hint}" if hint else f"unknown key '{quoted}' (allowed: {', '.join(allowed)})"


def one_of_message(value: Any, choices: Sequence[str]) -> str:
    """``expected one of: a, b, c; got 'x' (did you mean 'a'?)``."""
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return f"expected one of: {', '.join(choices)}; got {describe(value)}{hint}"


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def humanize(error: Any, model: type[BaseModel]) -> tuple[Loc, str]:
    """One pydantic error -> (its location, possibly extended, and a short message)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc: Loc = tuple(error["loc"])
    if kind == "missing":
        return loc, "required key missing (a show starts with 'version: 1')" if loc == ("version",) else \
            "required key missing"
    if kind == "extra_forbidden":
        target = model_at(model, loc[:-1])
        return loc, unknown_key_message(str(loc[-1]), list(target.model_fields) if target else None)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx.get("discriminator", "'type'").strip("'")
        if kind == "union_tag_not_found":
            return (*loc, key), "required key missing"
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        return (*loc, key), one_of_message(ctx.get("tag"), expected)
    if kind == "literal_error":
        return loc, one_of_message(value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    bounds = {"greater_than": (">", "gt"), "greater_than_equal": (">=", "ge"),
              "less_than": ("<", "lt"), "less_than_equal": ("<=", "le")}
    if kind in bounds:
        op, key = bounds[kind]
        return loc, f"must be {op} {_number(ctx[key])}"
    simple = {
        "int_type": "expected a whole number", "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number", "float_type": "expected a number",
        "float_parsing": "expected a number", "bool_type": "expected true or false",
        "bool_parsing": "expected true or false", "string_type": "expected text", "list_type": "expected a list",
        "tuple_type": "expected a list", "model_type": "expected a mapping (key: value)",
        "model_attributes_type": "expected a mapping (key: value)", "dict_type": "expected a mapping (key: value)",
        "finite_number": "expected a finite number",
    }
    if kind in simple:
        return loc, f"{simple[kind]}, got {describe(value)}"
    if kind == "too_short" and loc == ("cues",):
        return loc, "a show needs at least one cue"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return loc, f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "too_long":
        return loc, f"has more than {ctx.get('max_length')} items"
    if kind == "string_too_long":
        return loc, f"at most {ctx.get('max_length')} characters, got {len(value) if isinstance(value, str) else '?'}"
    if kind == "config":  # installation.config.values.custom_error: the text as written
        return loc, str(ctx.get("message", error["msg"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    return loc, message[:1].lower() + message[1:]


def validation_issues(exc: ValidationError, model: type[BaseModel], tree: Any, file: str,
                      prefix: Loc = ()) -> list[ConfigIssue]:
    """Every error of ``exc`` as a ConfigIssue; ``prefix`` places a nested validation (a scene) in the whole tree."""
    issues = []
    for error in exc.errors(include_url=False):
        loc, message = humanize(error, model)
        line, path = locate(tree, (*prefix, *loc))
        issues.append(ConfigIssue(file, line, format_path(path), message))
    return issues
