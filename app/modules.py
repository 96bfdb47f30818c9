"""The page's ES modules and what each imports statically, read from ``static/js`` once.

A page announces the whole static import closure of its entry and of the view it opens in its
head (``<link rel="modulepreload">``), so that the browser fetches them at once instead of
discovering them import by import; a module split in two, or a view's new helper, is found
without a list to keep. Dynamic imports (``import("…")``: Plotly, another view) stay lazy.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# `import … from "./x.js"`, `export … from "./x.js"` and `import "./x.js"`: relative only.
_STATIC = re.compile(
    r"""^\s*(?:import|export)\s[^;]*?\bfrom\s+["'](\.{1,2}/[^"']+)["']"""
    r"""|^\s*import\s+["'](\.{1,2}/[^"']+)["']""",
    re.MULTILINE,
)


@cache
def _imports(root: Path, module: str) -> tuple[str, ...]:
    """The modules ``module`` (a path relative to ``root``) imports statically."""
    path = root / module
    found = []
    for match in _STATIC.finditer(path.read_text(encoding="utf-8")):
        target = (path.parent / (match.group(1) or match.group(2))).resolve()
        found.append(target.relative_to(root.resolve()).as_posix())
    return tuple(found)


def closure(root: Path, *modules: str) -> tuple[str, ...]:
    """``modules`` and every module they import statically, each once, depth first."""
    seen: dict[str, None] = {}

    def visit(module: str) -> None:
        if module in seen:
            return
        seen[module] = None
        for imported in _imports(root, module):
            visit(imported)

    for module in modules:
        visit(module)
    return tuple(seen)
