"""The page's colours, for frames drawn on the server: the two themes and the marks of the views.

Declared once, in static/css/colours.css (``:root``, and ``:root[data-theme="contrast"]`` for
the page's projector mode), which the page links and static/js/colours.js reads: parsed here,
one ``--name: #rrggbb;`` a line, so that an export draws the page's very colours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from ..config import ROOT

RGB = tuple[int, int, int]
ThemeName = Literal["light", "contrast"]

COLOURS_CSS = ROOT / "static" / "css" / "colours.css"
# The selector of each theme's block in colours.css.
SELECTORS: dict[ThemeName, str] = {"light": ":root", "contrast": ':root[data-theme="contrast"]'}
_BLOCK = re.compile(r"([^{}]+)\{([^{}]*)\}")
_PROPERTY = re.compile(r"--([a-z0-9-]+)\s*:\s*#([0-9a-fA-F]{6})\s*;")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def rgb(hex_colour: str) -> RGB:
    """``#rrggbb`` (or ``rrggbb``) as a triple."""
    digits = hex_colour.lstrip("#")
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def parse_colours(css: str) -> dict[str, dict[str, RGB]]:
    """The colour custom properties of each selector's block: ``{selector: {name: rgb}}``
    (names without their ``--``)."""
    blocks: dict[str, dict[str, RGB]] = {}
    for selector, body in _BLOCK.findall(_COMMENT.sub("", css)):
        found = {name: rgb(value) for name, value in _PROPERTY.findall(body)}
        blocks.setdefault(" ".join(selector.split()), {}).update(found)
    return blocks


@cache
def palettes(path: Path = COLOURS_CSS) -> dict[ThemeName, dict[str, RGB]]:
    """Each theme's colours: the light ones, and the contrast theme's over them (as the
    cascade does: what the projector mode does not redeclare stays)."""
    blocks = parse_colours(path.read_text(encoding="utf-8"))
    light = blocks[SELECTORS["light"]]
    return {"light": light, "contrast": light | blocks[SELECTORS["contrast"]]}


@dataclass(frozen=True)
class Theme:
    name: ThemeName
    ink: RGB  # text
    muted: RGB  # secondary text
    paper: RGB  # the page's background: around the panels
    panel: RGB  # a tile's background
    line: RGB  # borders
    bar: RGB  # the caption bar's background


def _theme(name: ThemeName) -> Theme:
    colours = palettes()[name]
    return Theme(
        name,
        ink=colours["ink"],
        muted=colours["muted"],
        paper=colours["paper"],
        panel=colours["panel"],
        line=colours["line"],
        bar=colours["bar"],
    )


THEMES: dict[str, Theme] = {"light": _theme("light"), "contrast": _theme("contrast")}

# The marks of the views (the same in both themes).
_MARKS = palettes()["light"]
KEPT: RGB = _MARKS["kept"]
DROPPED: RGB = _MARKS["dropped"]
DROPPED_UNIT: RGB = _MARKS["dropped-unit"]  # feature maps: a dropped activation; pooling: the shade
WARN: RGB = _MARKS["warn"]  # a whole map dropped: its border and badge
BELOW: RGB = _MARKS["below"]  # a multiplicative noise below 1
ABOVE: RGB = _MARKS["above"]  # above 1
BLUE: RGB = _MARKS["okabe-blue"]
ORANGE: RGB = _MARKS["okabe-orange"]
VERMILION: RGB = _MARKS["okabe-vermilion"]
GREEN: RGB = _MARKS["okabe-green"]
SKY: RGB = _MARKS["okabe-sky"]
BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)


def blend(under: RGB, over: RGB, alpha: float) -> RGB:
    """``over`` at opacity ``alpha`` on ``under``, as a canvas composites an rgba() fill."""
    return (
        round(under[0] + (over[0] - under[0]) * alpha),
        round(under[1] + (over[1] - under[1]) * alpha),
        round(under[2] + (over[2] - under[2]) * alpha),
    )
