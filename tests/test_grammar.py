"""The URL's grammar is declared once (app/grammar.py): the server reads links with it, the
pages inline it for static/js/state.js, and neither keeps its own copy of the defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.grammar import DEFAULTS, GLOBAL, ITERATIONS, PANELS, grammar
from app.state import parse_state

ROOT = Path(__file__).resolve().parent.parent


def inlined(html: str) -> object:
    found = re.search(r'<script id="grammar" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no grammar in the page"
    return json.loads(found.group(1))


def test_the_pages_serve_the_servers_table(client: TestClient) -> None:
    table = json.loads(json.dumps(grammar()))
    for url in ("/", "/?a.method=standard&b.method=dropblock", "/embed?method=standard"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert inlined(answer.text) == table, url
    assert table["keys"] == sorted(GLOBAL, key=table["keys"].index)
    assert set(table["keys"]) == GLOBAL == set(table["defaults"])
    assert table["iterations"] == ITERATIONS and table["panels"] == list(PANELS)
    assert table["defaults"]["speed"] in table["speeds"]


def test_a_link_that_names_nothing_shows_the_defaults() -> None:
    state = parse_state({"method": DEFAULTS.method})
    assert (state.view, state.image, state.seed, state.iteration) == (
        DEFAULTS.view,
        DEFAULTS.image,
        DEFAULTS.seed,
        DEFAULTS.i,
    )
    compared = parse_state({"a.method": "standard", "b.method": "dropblock"})
    assert compared.view == DEFAULTS.view


def test_the_api_documents_the_same_defaults(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/frames", "/api/scene", "/api/match", "/api/reconstruction"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        for name in ("view", "image", "seed"):
            if name in params:
                assert params[name]["schema"].get("default") == getattr(DEFAULTS, name), (
                    path,
                    name,
                )


def test_no_other_source_spells_the_defaults() -> None:
    """The literal defaults (the picture, the opening method and view) appear in no source that
    reads or writes a link but app/grammar.py."""
    readers = [
        ROOT / "app" / "state.py",
        ROOT / "app" / "cli.py",
        ROOT / "app" / "routes" / "api.py",
        ROOT / "app" / "routes" / "pages.py",
        ROOT / "static" / "js" / "state.js",
        ROOT / "static" / "js" / "main.js",
        ROOT / "static" / "js" / "embed.js",
        ROOT / "static" / "js" / "panel.js",
        ROOT / "static" / "js" / "lesson.js",
    ]
    literals = [f'"{DEFAULTS.image}"', f"'{DEFAULTS.method}'", f'"{DEFAULTS.method}"']
    literals += [f' = "{DEFAULTS.view}"', f'"view", "{DEFAULTS.view}"', f'else "{DEFAULTS.view}"']
    found = [
        f"{source.relative_to(ROOT)}: {literal}"
        for source in readers
        for literal in literals
        if literal in source.read_text(encoding="utf-8")
    ]
    assert not found, found
    state_js = (ROOT / "static" / "js" / "state.js").read_text(encoding="utf-8")
    assert "= 100" not in state_js and '"a", "b"' not in state_js
