"""The layering of docs/architecture.md, checked on the import graph (stdlib ``ast``, no imports run).

Every ``import`` counts, at module level and inside functions alike (a lazy import is still an arrow); only
imports under ``if TYPE_CHECKING:`` are left out (they never run). Moving a module means editing the tables
below: ``LAYERS`` (lowest first) and ``BASE``. A module the tables do not place is reported, not guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("installation", "models", "exporters")

# installation's layers, lowest first: a module may import its own layer and the ones before it (and BASE).
#   config -> show -> preparation -> scenes -> player -> kiosk -> cli
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("config", ("installation.config",)),
    ("show", ("installation.show",)),
    ("preparation", ("installation.preparation", "installation.ordering", "installation.emotion",
                     "installation.collection", "installation.generate")),
    ("scenes", ("installation.scenes",)),
    ("player", ("installation.player", "installation.player_link", "installation.offline",
                "installation.wall.link")),
    ("kiosk", ("installation.kiosk",)),
    ("cli", ("installation.cli", "installation.doctor")),
]
# Beside the stack, below all of it but config: GL, cameras, model wrappers and small utilities. They import
# config and each other, nothing above.
BASE: tuple[str, ...] = (
    "installation.render", "installation.capture", "installation.inference",
    "installation", "installation.address", "installation.backoff", "installation.easing", "installation.faults",
    "installation.files", "installation.hashing", "installation.imagefile", "installation.pacing",
    "installation.pack", "installation.video", "installation.geometry", "installation.exit_codes",
    "installation.dark_border",
    "installation.wall",  # the wall's layout, MQTT client, commands, statuses, fleet API (wall.link: player)
)
# What models/ may use of installation: the model contract, the ONNX wrappers (evaluation, sample rating),
# file hashing (provenance) and the dark-border rule the selection applies (evaluation counts it). Never the
# show runtime.
MODELS_MAY_IMPORT = ("installation.inference", "installation.hashing", "installation.exit_codes",
                     "installation.ordering.sage", "installation.dark_border")
# Heavy libraries installation must not import at module level (they load lazily, where a command needs them).
NOT_AT_IMPORT_TIME = ("torch", "torch_geometric", "onnx", "onnxscript", "h5py")
# The one runtime module that is torch at module level: the GNN network, imported only inside the function
# that orders a collection (preparation, off the render thread).
TORCH_MODULES = ("installation.ordering.sage",)


@dataclass(frozen=True)
class Arrow:
    source: str  # importing module
    target: str  # imported module (as written, resolved when relative)
    line: int
    module_level: bool

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self._file()}:{self.line}{'' if self.module_level else ', lazy'})"

    def _file(self) -> str:
        path = Path(*self.source.split("."))
        return str(path / "__init__.py") if (REPO / path).is_dir() else f"{path}.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _arrows(path: Path) -> list[Arrow]:
    source = _module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[Arrow] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.orelse:
                    visit(stmt, module_level)
                continue
            if isinstance(child, ast.Import):
                out.extend(Arrow(source, alias.name, child.lineno, module_level) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                # `from pkg import mod` imports pkg.mod when it is a module: count the finer target
                for alias in child.names:
                    finer = f"{target}.{alias.name}"
                    is_module = (REPO / Path(*finer.split("."))).with_suffix(".py").is_file() or \
                        (REPO / Path(*finer.split("."))).is_dir()
                    out.append(Arrow(source, finer if is_module else target, child.lineno, module_level))
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, module_level and not nested)

    visit(tree, True)
    return list(dict.fromkeys(out))  # `from m import a, b` of names (not modules): one arrow


def _graph() -> list[Arrow]:
    arrows: list[Arrow] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            arrows.extend(_arrows(path))
    return arrows


ARROWS = _graph()


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _layer(module: str) -> int | None:
    """Index in LAYERS; -1 for BASE; None when the tables do not place the module."""
    best: tuple[int, int] | None = None  # (prefix length, layer): the most specific prefix wins
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if _within(module, prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    for prefix in BASE:
        exact_only = prefix == "installation"  # the package's own __init__, not everything under it
        if (module == prefix if exact_only else _within(module, prefix)) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), -1)
    return None if best is None else best[1]


def _name(layer: int) -> str:
    return "base (render/capture/inference/utilities)" if layer == -1 else LAYERS[layer][0]


def _report(what: str, bad: list) -> str:
    return f"{len(bad)} {what}:\n  " + "\n  ".join(str(b) for b in bad)


def layering_violations() -> list[str]:
    out = []
    for a in ARROWS:
        if not (_within(a.source, "installation") and _within(a.target, "installation")):
            continue
        src, dst = _layer(a.source), _layer(a.target)
        if src is None or dst is None:
            continue  # test_every_module_has_a_layer reports these
        ok = dst in (-1, 0) if src == -1 else dst <= src  # base imports config and base, nothing above
        if not ok:
            out.append(f"{a}: {_name(src)} imports {_name(dst)}")
    return out


def test_the_graph_is_read() -> None:
    sources = {a.source for a in ARROWS}
    assert "installation.cli.app" in sources and "exporters.sagan" in sources and "models.sagan" in sources
    assert any(not a.module_level for a in ARROWS), "function-level imports must be counted too"


def test_every_module_has_a_layer() -> None:
    modules = {_module_name(p) for p in (REPO / "installation").rglob("*.py")}
    unplaced = sorted(m for m in modules if _layer(m) is None)
    assert not unplaced, "add these to LAYERS or BASE in tests/test_architecture.py: " + ", ".join(unplaced)


def test_installation_layers_import_only_downwards() -> None:
    bad = layering_violations()
    assert not bad, _report("imports that run up the layers (config -> show -> preparation -> scenes -> player "
                            "-> kiosk -> cli; render/capture/inference below all but config)", bad)


def test_installation_never_imports_models_or_exporters() -> None:
    bad = [a for a in ARROWS if _within(a.source, "installation") and a.target.split(".")[0] in ("models", "exporters")]
    assert not bad, _report("imports of the offline packages from the runtime", bad)


def test_installation_imports_no_heavy_library_at_module_level() -> None:
    bad = [a for a in ARROWS if _within(a.source, "installation") and a.module_level
           and a.source not in TORCH_MODULES and a.target.split(".")[0] in NOT_AT_IMPORT_TIME]
    bad += [a for a in ARROWS if a.module_level and a.target in TORCH_MODULES and not _within(a.source, "models")]
    assert not bad, _report("module-level imports of torch/onnx & co. in the runtime", bad)


def test_models_import_only_contracts_of_installation_and_never_exporters() -> None:
    bad = [a for a in ARROWS if _within(a.source, "models") and (
        _within(a.target, "exporters")
        or (_within(a.target, "installation") and not any(_within(a.target, p) for p in MODELS_MAY_IMPORT)))]
    assert not bad, _report("imports from models/ of exporters or of installation beyond its contracts", bad)


def test_no_cycles_between_top_level_packages() -> None:
    edges = {(a.source.split(".")[0], a.target.split(".")[0]) for a in ARROWS}
    edges = {(s, t) for s, t in edges if s != t and t in PACKAGES}
    cycles = sorted((s, t) for s, t in edges if (t, s) in edges)
    assert not cycles, f"packages that import each other: {cycles}; arrows:\n  " + "\n  ".join(
        str(a) for a in ARROWS if (a.source.split(".")[0], a.target.split(".")[0]) in set(cycles))


def test_tests_and_benchmarks_do_not_import_test_modules() -> None:
    test_modules = {p.stem for p in (REPO / "tests").glob("test_*.py")}
    bad = []
    for folder in ("tests", "bench"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for a in _arrows_of_file(path):
                head = a.split(".")[0]
                if head in test_modules or head == "tests" or (folder == "bench" and head in ("conftest", "helpers")):
                    bad.append(f"{path.relative_to(REPO)} imports {a}")
    assert not bad, "\n".join(bad)


def _arrows_of_file(path: Path) -> list[str]:
    targets = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            targets.append(node.module)
    return targets


@pytest.mark.parametrize("module", ["render", "capture", "inference"])
def test_render_capture_inference_import_nothing_above_them(module: str) -> None:
    bad = [v for v in layering_violations() if v.startswith(f"installation.{module}")]
    assert not bad, _report(f"imports from installation/{module}/ of layers above it", bad)
