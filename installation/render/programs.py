"""The one shader loader: program files found on a search path, includes resolved once per stage.

A program file holds its vertex and fragment stage behind ``#if defined VERTEX_SHADER`` /
``#elif defined FRAGMENT_SHADER`` (the single-file layout of moderngl-window). ``#include "lib/x.glsl"``
pulls in shared snippets and ``#pragma inject NAME`` lines are replaced by generated code (the transition
dispatch, see :mod:`installation.render.transitions`).

Files are looked up in the ``search_path`` directories in order, then in the renderer's own ``shaders/``,
so a scene's shader (``scenes/shaders/scene_mix.glsl``) can include ``lib/noise.glsl``. Each stage is
expanded on its own: the other stage's branch is blanked first, so an include inside it does not count,
and every file is then included once however many files pull it in (like ``#pragma once``; an include
under any other ``#if`` counts as included whichever way the GLSL preprocessor decides). A missing
include or an include cycle raises :class:`ShaderSourceError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import moderngl

SHADER_DIR = Path(__file__).resolve().parent / "shaders"
GLSL_VERSION = "#version 330 core"
STAGES = ("VERTEX_SHADER", "FRAGMENT_SHADER")

_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
_INJECT = re.compile(r"^\s*#pragma\s+inject\s+(\w+)\s*$")
_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")
_STAGE_TEST = re.compile(r"^\s*(?:defined\s*\(?\s*(\w+)\s*\)?|(\w+))\s*$")


class ShaderSourceError(ValueError):
    """A shader file cannot be assembled: a missing include, an include cycle, an unknown injection."""


def program_names(directory: Path = SHADER_DIR) -> list[str]:
    """Every program file in ``directory`` (top-level ``*.glsl``; ``lib/`` and ``transitions/`` are snippets)."""
    return sorted(p.stem for p in directory.glob("*.glsl"))


def find_shader(relative: str, search_path: Sequence[Path] = ()) -> Path:
    """The first ``dir/relative`` that exists, trying ``search_path`` then the renderer's ``shaders/``."""
    directories = [*search_path, SHADER_DIR]
    for directory in directories:
        path = directory / relative
        if path.is_file():
            return path.resolve()
    raise ShaderSourceError(f"{relative!r} not found in {', '.join(str(d) for d in directories)}")


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass
class _Expansion:
    """One stage being assembled: which files are in it (their position is the GLSL source-string number
    in ``#line`` directives and compiler messages) and which are already included."""

    stage: str
    search_path: Sequence[Path]
    injections: Mapping[str, str]
    sources: list[str] = field(default_factory=list)
    included: set[Path] = field(default_factory=set)

    def file(self, relative: str, stack: tuple[tuple[str, Path], ...], where: str) -> str:
        try:
            path = find_shader(relative, self.search_path)
        except ShaderSourceError as exc:
            raise ShaderSourceError(f"{where}: #include {exc}") from None
        if any(path == open_path for _, open_path in stack):
            raise ShaderSourceError(f"include cycle: {' -> '.join((*(name for name, _ in stack), relative))}")
        if path in self.included:
            return ""  # already in this stage: once is enough
        self.included.add(path)
        return self.text(_read(path), relative, (*stack, (relative, path)))

    def text(self, text: str, name: str, stack: tuple[tuple[str, Path], ...]) -> str:
        number = len(self.sources)
        self.sources.append(name)
        out = [f"#line 1 {number}"]
        for line_no, line in enumerate(_only_stage(text, self.stage, name).splitlines(), start=1):
            include, inject = _INCLUDE.match(line), _INJECT.match(line)
            if include is None and inject is None:
                out.append(line)
                continue
            where = f"{name}:{line_no}"
            if include is not None:
                out.append(self.file(include.group(1), stack, where))
            else:
                key = inject.group(1)  # type: ignore[union-attr]
                if key not in self.injections:
                    raise ShaderSourceError(f"{where}: nothing to inject for '#pragma inject {key}'")
                out.append(self.text(self.injections[key], f"<inject {key}>", stack))
            out.append(f"#line {line_no + 1} {number}")  # back to this file's own numbering
        return "\n".join(out)


def _only_stage(text: str, stage: str, name: str) -> str:
    """``text`` with the lines of the other stage's ``#if defined ..._SHADER`` branches (and those
    directives) blanked, keeping line numbers; other conditionals are left to the GLSL preprocessor."""
    out: list[str] = []
    frames: list[tuple[str, bool, bool]] = []  # (kind: stage|other, branch active, some branch taken)

    def active() -> bool:
        return all(branch for _, branch, _ in frames)

    for line in text.splitlines():
        match = _DIRECTIVE.match(line)
        if match is None:
            out.append(line if active() else "")
            continue
        keyword, condition = match.group(1), match.group(2)
        stage_test = _STAGE_TEST.match(condition)
        is_stage = stage_test is not None and (stage_test.group(1) or stage_test.group(2)) in STAGES
        if keyword in ("if", "ifdef", "ifndef"):
            if is_stage and keyword != "ifndef":
                wanted = (stage_test.group(1) or stage_test.group(2)) == stage  # type: ignore[union-attr]
                frames.append(("stage", wanted, wanted))
                out.append("")
            else:
                frames.append(("other", True, True))
                out.append(line if active() else "")
            continue
        if not frames:
            raise ShaderSourceError(f"{name}: #{keyword} without #if")
        kind, _, taken = frames[-1]
        if keyword == "endif":
            frames.pop()
            out.append("" if kind == "stage" else line if active() else "")
        elif kind == "other":
            out.append(line if active() else "")
        elif keyword == "else":
            frames[-1] = (kind, not taken, True)
            out.append("")
        else:  # elif in a stage conditional: only stage tests may follow
            if not is_stage:
                raise ShaderSourceError(f"{name}: #elif{condition} mixes a stage test with another condition")
            wanted = not taken and (stage_test.group(1) or stage_test.group(2)) == stage  # type: ignore[union-attr]
            frames[-1] = (kind, wanted, taken or wanted)
            out.append("")
    if frames:
        raise ShaderSourceError(f"{name}: #if without #endif")
    return "\n".join(out)


def expand(
    relative: str,
    stage: str,
    injections: Mapping[str, str] | None = None,
    search_path: Sequence[Path] = (),
) -> tuple[str, list[str]]:
    """Source of one stage of a shader file, includes and injections resolved, and the file behind each
    GLSL source-string number (``0`` is the file itself)."""
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r}: expected one of {', '.join(STAGES)}")
    expansion = _Expansion(stage, tuple(search_path), dict(injections or {}))
    text = expansion.file(relative, (), relative)
    return text, expansion.sources


def stage_sources(
    name: str, injections: Mapping[str, str] | None = None, search_path: Sequence[Path] = ()
) -> tuple[str, str]:
    """Vertex and fragment source of program ``name`` (file ``<name>.glsl`` on the search path)."""
    return tuple(  # type: ignore[return-value]
        f"{GLSL_VERSION}\n#define {stage} 1\n{expand(f'{name}.glsl', stage, injections, search_path)[0]}"
        for stage in STAGES
    )


def load_program(
    ctx: moderngl.Context,
    name: str,
    injections: Mapping[str, str] | None = None,
    *,
    search_path: Sequence[Path] = (),
) -> moderngl.Program:
    """Compile and link ``<name>.glsl``; raises ``moderngl.Error`` with the compiler log and which file
    each source number in it stands for."""
    vertex, fragment = stage_sources(name, injections, search_path)
    try:
        return ctx.program(vertex_shader=vertex, fragment_shader=fragment)
    except moderngl.Error as exc:
        legend = "; ".join(
            f"{stage.split('_')[0].lower()}: "
            + ", ".join(f"{n} = {source}" for n, source in enumerate(expand(f"{name}.glsl", stage, injections,
                                                                             search_path)[1]))
            for stage in STAGES)
        raise moderngl.Error(f"shader program {name!r}: {exc}\n(source numbers, {legend})") from exc


def set_uniforms(program: moderngl.Program, **values: object) -> None:
    """Set the uniforms the program really has (the GLSL compiler drops unused ones)."""
    for key, value in values.items():
        if key in program:
            uniform = program[key]
            if not isinstance(uniform, moderngl.Uniform):
                raise TypeError(f"{key!r} is not a uniform of this program")
            uniform.value = value
