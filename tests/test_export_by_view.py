"""Exports find a view's drawing by its id, as the page finds ``static/js/views/<id>.js``: each
exportable view has ``app/render/<id>.py`` (or a package of that name) with its ``RENDERER``,
which declares its statistics rows; the shared export code names no view. The standalone
file's page, style and script are files, inlined as they are."""

from __future__ import annotations

import re

from exports import export
from fastapi.testclient import TestClient

from app.config import ROOT
from app.render import StatRow, ViewRenderer, drawn_views, renderer_of
from app.render.base import mask_rows
from dropouts.lab.registry import VIEWS
from dropouts.lab.views import BUILT

RENDER = ROOT / "app" / "render"
# What every view's export goes through: none of it may know a view by name.
SHARED = [
    *sorted((ROOT / "app" / "export").glob("*.py")),
    RENDER / "__init__.py",
    RENDER / "base.py",
    RENDER / "layout.py",
    ROOT / "app" / "routes" / "export.py",
    ROOT / "templates" / "standalone.html",
    ROOT / "static" / "css" / "standalone.css",
    ROOT / "static" / "js" / "standalone" / "player.js",
]


def test_every_built_view_has_its_module_and_renderer() -> None:
    assert [view.id for view in VIEWS if view.id in BUILT] != []
    for view in BUILT:
        assert (RENDER / f"{view}.py").is_file() or (RENDER / view / "__init__.py").is_file(), view
        renderer = renderer_of(view)
        assert isinstance(renderer, ViewRenderer), view
    # In the order the 422 for a view without a renderer names them.
    assert drawn_views() == tuple(BUILT)


def test_only_a_built_view_is_found() -> None:
    for name in ("base", "layout", "text", "theme", "nope", "dense.plan", ""):
        assert renderer_of(name) is None


def test_no_shared_export_file_names_a_view() -> None:
    ids = {view.id for view in VIEWS} | set(BUILT)
    for path in SHARED:
        source = path.read_text(encoding="utf-8")
        for view in ids:
            # A key of that name is not the view (the query's and a frame's "image": picture).
            quoted = re.compile(rf"""["']{re.escape(view)}["'](?!\s*:)""")
            assert not quoted.search(source), f"{path.relative_to(ROOT)} names {view!r}"


def test_each_view_declares_its_statistics_rows() -> None:
    declared = {}
    for view in drawn_views():
        renderer = renderer_of(view)
        assert renderer is not None
        declared[view] = renderer.rows
    pooling = declared["pooling"](None)  # type: ignore[arg-type]
    residual = declared["residual"](None)  # type: ignore[arg-type]
    assert all(isinstance(row, StatRow) for row in pooling + residual)
    assert [row.stat for row in pooling] == ["dropped_fraction", "changed_fraction", "mc_rms_error"]
    assert pooling[-1].expected == "frame:mc_rms_expected" and pooling[-1].digits == 4
    assert [row.stat for row in residual] == ["dropped_fraction", "depth_mean", "output_change"]
    # The others show a mask: the default rows, the unit named by the theory.
    assert all(declared[view] is mask_rows for view in ("image", "dense", "lstm", "compression"))


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_standalone_file_inlines_its_style_and_script(client: TestClient) -> None:
    page = export(client, "view=pooling&method=maxpool&format=html&frames=2&stats=true").decode()
    style = (ROOT / "static" / "css" / "standalone.css").read_text(encoding="utf-8")
    script = (ROOT / "static" / "js" / "standalone" / "player.js").read_text(encoding="utf-8")
    assert _between(page, "<style>\n", "</style>") == style
    assert _between(page, "<script>\n", "</script>") == script
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert "{{" not in page and "{%" not in page
    # The pooling view's own rows, not the masks' ones.
    assert "windows not won by their max" in page and "mask variance" not in page
