"""The import graph of src/rtcr: no cycles between modules, TYPE_CHECKING imports included.

Every import is read from the source (``ast``), so an import that only the
type checker follows counts as much as one that runs. A lower module that
must name a higher one defines the narrow type it needs (a ``Protocol``)
and the higher one implements it, as Genode's core does with
``Region_map_detach``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rtcr

ROOT = Path(rtcr.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                elif target in modules:
                    found.add(target)
    found.discard(module)
    return found


def import_cycles() -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.add(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycles() -> None:
    assert import_cycles() == set()


def test_the_pager_imports_region_maps_and_not_the_other_way() -> None:
    modules = _modules()
    assert "rtcr.core.region_map" in _imports("rtcr.core.pager", modules["rtcr.core.pager"],
                                              modules)
    assert "rtcr.core.pager" not in _imports("rtcr.core.region_map",
                                             modules["rtcr.core.region_map"], modules)


def test_errors_import_nothing_of_rtcr() -> None:
    modules = _modules()
    assert _imports("rtcr.errors", modules["rtcr.errors"], modules) == set()
