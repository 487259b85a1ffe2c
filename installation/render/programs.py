"""Shader programs from ``shaders/*.glsl``: one program per file, both stages in it.

A program file holds its vertex and fragment stage behind ``#if defined VERTEX_SHADER`` /
``#elif defined FRAGMENT_SHADER`` (the single-file layout of moderngl-window). ``#include "lib/x.glsl"``
pulls in shared snippets, and ``#pragma inject NAME`` lines are replaced by generated code (the
transition dispatch, see :mod:`installation.render.transitions`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import moderngl

log = logging.getLogger(__name__)

SHADER_DIR = Path(__file__).resolve().parent / "shaders"
GLSL_VERSION = "#version 330 core"

_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', re.MULTILINE)
_INJECT = re.compile(r"^\s*#pragma\s+inject\s+(\w+)\s*$", re.MULTILINE)


def program_names() -> list[str]:
    """Every program file (top-level ``shaders/*.glsl``; ``lib/`` and ``transitions/`` are snippets)."""
    return sorted(p.stem for p in SHADER_DIR.glob("*.glsl"))


@cache
def _read(relative: str) -> str:
    return (SHADER_DIR / relative).read_text(encoding="utf-8")


def expand(relative: str, injections: Mapping[str, str] | None = None, _seen: tuple[str, ...] = ()) -> str:
    """Source of one shader file with includes resolved (each file once) and injections applied."""
    if relative in _seen:
        raise ValueError(f"include cycle: {' -> '.join((*_seen, relative))}")
    text = _read(relative)

    def include(match: re.Match[str]) -> str:
        return expand(match.group(1), injections, (*_seen, relative))

    def inject(match: re.Match[str]) -> str:
        name = match.group(1)
        if injections is None or name not in injections:
            raise KeyError(f"{relative}: nothing to inject for '#pragma inject {name}'")
        return injections[name]

    # Injections first: generated code may itself #include files.
    return _INCLUDE.sub(include, _INJECT.sub(inject, text))


def stage_sources(name: str, injections: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Vertex and fragment source of program ``name`` (file ``shaders/<name>.glsl``)."""
    body = expand(f"{name}.glsl", injections)
    # #line keeps compiler messages pointing at the file's own line numbers.
    vertex = f"{GLSL_VERSION}\n#define VERTEX_SHADER 1\n#line 1\n{body}"
    fragment = f"{GLSL_VERSION}\n#define FRAGMENT_SHADER 1\n#line 1\n{body}"
    return vertex, fragment


def load_program(ctx: moderngl.Context, name: str, injections: Mapping[str, str] | None = None) -> moderngl.Program:
    """Compile and link ``shaders/<name>.glsl``; raises ``moderngl.Error`` with the compiler log."""
    vertex, fragment = stage_sources(name, injections)
    try:
        return ctx.program(vertex_shader=vertex, fragment_shader=fragment)
    except moderngl.Error as exc:
        raise moderngl.Error(f"shader program {name!r}: {exc}") from exc


def set_uniforms(program: moderngl.Program, **values: object) -> None:
    """Set the uniforms the program really has (the GLSL compiler drops unused ones)."""
    for key, value in values.items():
        if key in program:
            program[key].value = value
