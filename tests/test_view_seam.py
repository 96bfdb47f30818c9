"""Adding a view touches its own files only (README, "Adding a view"): for every view id, no
source file outside the view's own names it. A view's own files: its registry entry
(dropouts/lab/registry.py), dropouts/lab/views/<id>.py (and <id>_*.py beside it), its trained
demo where it has one (declared by ``View.training``: dropouts/lab/trained/<id>.py and the
package or modules that train it), static/js/views/<id>.js (and <id>_*.js), static/css/<id>.css
and app/render/<id>.py (or the package app/render/<id>/).

A view id in quotes counts, except where the same word names something else, listed below
with the reason: a method whose id is also a view's (``compression``), and the picture
(``image``: the ``image`` query key and field, the SVG ``image`` element). For ``image`` the
check is the view itself: the word beside ``view`` on a line, not as a dict key."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dropouts.lab.views import BUILT

ROOT = Path(__file__).resolve().parent.parent

# The trained demo of a view: the modules that train it (declared by its View.training).
DEMOS = {
    "dense": ("dropouts/lab/training/",),
    "compression": ("dropouts/lab/compression/",),
    "uncertainty": ("dropouts/lab/uncertainty.py", "dropouts/lab/uncertainty_"),
    "lstm": ("dropouts/lab/memory.py",),
}
# Files where the word names something else than the view (the reason on each).
OTHER_MEANING = {
    "dense": {
        "app/catalog.py": "the dense family's label (Dense layers)",
        "app/lesson/path.py": "the lesson's section on dense networks",
        "app/lesson/steps_dense.py": "the lesson's section on dense networks",
    },
    "image": {
        "app/cli.py": "the image key among the state's keys a parameter cannot take",
        "app/routes/api.py": "the image key among the frames' own query keys",
    },
    "compression": {
        "dropouts/lab/snippets.py": "the compression method's snippet",
        "dropouts/lab/views/matching.py": "the compression method's matched parameter",
        "app/lesson/steps_other.py": "the compression method, whose papers the lesson cites",
    },
}


def sources() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "dropouts", "app", "static", "templates"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if name.endswith((".py", ".js", ".css", ".html"))]


def own(view_id: str, name: str) -> bool:
    prefixes = (
        f"dropouts/lab/views/{view_id}.py",
        f"dropouts/lab/views/{view_id}_",
        f"dropouts/lab/trained/{view_id}.py",
        f"static/js/views/{view_id}.js",
        f"static/js/views/{view_id}_",
        f"static/css/{view_id}.css",
        f"app/render/{view_id}.py",
        f"app/render/{view_id}/",
        "dropouts/lab/registry.py",
        *DEMOS.get(view_id, ()),
    )
    return name.startswith(prefixes)


def naming(view_id: str, text: str) -> list[str]:
    """The lines of ``text`` that name the view ``view_id``."""
    quoted = re.compile(rf"""["']{re.escape(view_id)}["']""")
    if view_id != "image":
        return [line.strip() for line in text.splitlines() if quoted.search(line)]
    as_view = re.compile(r"""\bview\b[^\n]*["']image["'](?!\s*:)|["']image["'][^:\n]*\bview""")
    return [line.strip() for line in text.splitlines() if as_view.search(line)]


@pytest.mark.parametrize("view_id", sorted(BUILT))
def test_no_file_outside_a_view_names_it(view_id: str) -> None:
    found = {}
    for name in sources():
        if own(view_id, name) or name in OTHER_MEANING.get(view_id, {}):
            continue
        lines = naming(view_id, (ROOT / name).read_text(encoding="utf-8"))
        if lines:
            found[name] = lines
    assert found == {}


def test_the_check_finds_a_view_named_elsewhere() -> None:
    assert naming("pooling", 'if view == "pooling":') == ['if view == "pooling":']
    assert naming("image", 'image_view = "image" in views') == ['image_view = "image" in views']
    assert naming("image", 'query = {"view": state.view, "image": state.image}') == []
    assert not own("pooling", "app/export/standalone.py")
