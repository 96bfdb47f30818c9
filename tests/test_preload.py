"""The pages announce, in their head, every module their entry and their view import
statically (app/modules.py): nothing the browser would otherwise find import by import, and
only what it would load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

JS = Path(__file__).resolve().parent.parent / "static" / "js"
PRELOAD = re.compile(r'<link rel="modulepreload" href="/static/js/([^"]+)">')
# A static import, written as a reader would find it (not app/modules.py's pattern).
IMPORTED = re.compile(r"""^(?:import|export)\b[^;]*?from "(\.[^"]+)";|^import "(\.[^"]+)";""", re.M)


def static_imports(module: str) -> set[str]:
    path = JS / module
    text = path.read_text(encoding="utf-8")
    return {
        (path.parent / (a or b)).resolve().relative_to(JS.resolve()).as_posix()
        for a, b in IMPORTED.findall(text)
    }


@pytest.mark.parametrize(
    ("address", "entry", "view"),
    [
        ("/", "main.js", "views/image.js"),
        ("/?method=rnndrop", "main.js", "views/lstm.js"),
        ("/?a.method=standard&b.method=dropblock", "compare_page.js", "views/image.js"),
        ("/embed?method=compression", "embed.js", "views/compression.js"),
        (
            "/embed?a.method=standard&b.method=gaussian&view=dense",
            "embed_compare.js",
            "views/dense.js",
        ),
    ],
)
def test_a_page_preloads_the_static_closure_of_its_entry_and_view(
    client: TestClient, address: str, entry: str, view: str
) -> None:
    preloaded = PRELOAD.findall(client.get(address).text)
    assert len(preloaded) == len(set(preloaded))
    assert preloaded[0] == entry and view in preloaded
    wanted = {entry, view}
    frontier = [entry, view]
    while frontier:
        for imported in static_imports(frontier.pop()) - wanted:
            wanted.add(imported)
            frontier.append(imported)
    assert set(preloaded) == wanted
