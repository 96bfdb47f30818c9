"""The colours are declared once, in static/css/colours.css: the server's renderers parse it
(app/render/theme.py), the page links it and static/js/colours.js reads it, and no other source
of the server or the page keeps a copy of one of its values."""

from __future__ import annotations

import re
from pathlib import Path

from app.render import theme

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "static" / "css" / "colours.css"
# Plain white and black, and the dropped mark's near-black, are also inks of their own (a
# contour, a point's outline): not copies of a theme.
PLAIN = {"#ffffff", "#000000", "#111111"}
# Writes its own page (an export, rewritten elsewhere): its stylesheet repeats the themes.
KNOWN_COPIES: set[Path] = set()  # the offline HTML file's own sheet is static/css/standalone.css


def declared() -> dict[str, dict[str, str]]:
    """``{selector: {name: '#rrggbb'}}``, read as plainly as possible (not with theme's parser)."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.DOTALL)
    blocks: dict[str, dict[str, str]] = {}
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        pairs = re.findall(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;", body)
        blocks[selector.strip()] = {name: value.lower() for name, value in pairs}
    return blocks


def as_rgb(value: str) -> tuple[int, int, int]:
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def test_the_renderers_draw_in_the_declared_colours() -> None:
    blocks = declared()
    light, contrast = blocks[":root"], blocks[':root[data-theme="contrast"]']
    for name, colours in (("light", light), ("contrast", light | contrast)):
        shown = theme.THEMES[name]
        for field in ("ink", "muted", "paper", "panel", "line", "bar"):
            assert getattr(shown, field) == as_rgb(colours[field]), (name, field)
    marks = {
        "KEPT": "kept",
        "DROPPED": "dropped",
        "DROPPED_UNIT": "dropped-unit",
        "WARN": "warn",
        "BELOW": "below",
        "ABOVE": "above",
        "BLUE": "okabe-blue",
        "ORANGE": "okabe-orange",
        "VERMILION": "okabe-vermilion",
        "GREEN": "okabe-green",
        "SKY": "okabe-sky",
    }
    for constant, name in marks.items():
        assert getattr(theme, constant) == as_rgb(light[name]), constant


def test_the_pages_link_the_colours_before_their_stylesheet() -> None:
    link = '<link rel="stylesheet" href="/static/css/colours.css">'
    for page in ("index.html", "embed.html", "error.html"):
        text = (ROOT / "templates" / page).read_text(encoding="utf-8")
        assert link in text, page
        assert text.index(link) < text.index('href="/static/css/lab.css"'), page


def spellings(value: str) -> list[re.Pattern[str]]:
    """A colour as a source may write it: ``#rrggbb``, a triple of ``0x..`` or of decimals, an
    ``rgb()`` or a JS array."""
    r, g, b = as_rgb(value)
    triple = rf"[(\[]\s*{r}\s*,\s*{g}\s*,\s*{b}\s*[,)\]]"
    hexes = rf"\(\s*0x{r:02x}\s*,\s*0x{g:02x}\s*,\s*0x{b:02x}\s*\)"
    return [
        re.compile(rf"{value}\b", re.IGNORECASE),
        re.compile(triple),
        re.compile(hexes, re.IGNORECASE),
        re.compile(rf"rgba?\(\s*{r}\s*,\s*{g}\s*,\s*{b}\s*[,)]"),
    ]


def test_no_source_keeps_a_copy_of_a_declared_colour() -> None:
    values = {value for block in declared().values() for value in block.values()} - PLAIN
    sources = [
        *sorted((ROOT / "app").rglob("*.py")),
        *sorted((ROOT / "static" / "js").rglob("*.js")),
    ]
    copies = []
    for source in sources:
        if source.relative_to(ROOT) in KNOWN_COPIES:
            continue
        text = source.read_text(encoding="utf-8")
        for value in sorted(values):
            for pattern in spellings(value):
                for found in pattern.finditer(text):
                    line = text.count("\n", 0, found.start()) + 1
                    copies.append(f"{source.relative_to(ROOT)}:{line}: {found.group()}")
    assert not copies, "\n".join(copies)
