"""Text on frames: Pillow's built-in font, nothing downloaded, nothing read from the system.

``ImageFont.load_default(size=...)`` is the font Pillow carries inside itself (Aileron, set
by FreeType). It has printable ASCII and hardly anything else, so the few other characters the
lab writes are spelled out (σ as "sigma", × as "x") and the arrows of the filters' labels
(→ ↗ ↑ ↖) are drawn as strokes, not looked up in the font.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from functools import lru_cache

from PIL import ImageDraw, ImageFont

from .theme import RGB

Font = ImageFont.FreeTypeFont
MIN_SIZE = 7

# Arrows drawn as strokes: the direction each points to, in degrees counter-clockwise from
# pointing right (as the filters' labels use them: the way brightness rises).
ARROWS = {"→": 0, "↗": 45, "↑": 90, "↖": 135, "←": 180, "↙": 225, "↓": 270, "↘": 315}
SPELLED = {
    "×": "x",
    "✕": "x",
    "−": "-",
    "–": "-",
    "—": " - ",
    "…": "...",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "′": "'",
    "²": "^2",
    "σ": "sigma",
    "μ": "mu",
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "ξ": "xi",
    "Σ": "sum",
    "ᵢ": "i",
}


_fonts = threading.local()  # a FreeType face is not to be shared between threads


def font(size: int) -> Font:
    """Pillow's built-in font at ``size`` pixels (at least :data:`MIN_SIZE`), loaded once per
    size and thread."""
    size = max(MIN_SIZE, int(size))
    loaded: dict[int, Font] = _fonts.__dict__.setdefault("by_size", {})
    if size not in loaded:
        face = ImageFont.load_default(size=size)
        assert isinstance(face, ImageFont.FreeTypeFont)  # Pillow is built with FreeType
        loaded[size] = face
    return loaded[size]


@lru_cache(maxsize=1024)
def plain(text: str) -> str:
    """``text`` in the characters the built-in font has (arrows are kept: they are drawn)."""
    out = []
    for char in text:
        if char in ARROWS or " " <= char <= "~" or char in "°±·":
            out.append(char)
        elif char in SPELLED:
            out.append(SPELLED[char])
        else:
            decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(decomposed or "?")
    return "".join(out)


def _runs(text: str) -> list[str]:
    """``text`` cut into words, single spaces and single arrows."""
    runs: list[str] = []
    for char in plain(text):
        if char in ARROWS or char == " " or not runs or runs[-1][-1] in ARROWS or runs[-1] == " ":
            runs.append(char)
        else:
            runs[-1] += char
    return runs


def _advance(run: str, face: Font) -> float:
    if run in ARROWS:
        return face.size * 0.85
    if run == " ":
        # The built-in font's space is a fifth of an em: too tight to read at small sizes.
        return max(face.getlength(" "), round(face.size * 0.3))
    return face.getlength(run)


def line_height(face: Font) -> int:
    ascent, descent = face.getmetrics()
    return int(ascent + descent)


def width(text: str, face: Font) -> float:
    """The advance of ``text`` in ``face``, arrows included."""
    return sum(_advance(run, face) for run in _runs(text))


def common_size(texts: list[str], room: float, size: int) -> int:
    """The largest type size up to ``size`` at which every one of ``texts`` fits ``room``
    pixels across (at least :data:`MIN_SIZE`): lines of one kind set alike."""
    size = max(MIN_SIZE, int(size))
    while size > MIN_SIZE and any(width(line, font(size)) > room for line in texts):
        size -= 1
    return size


def fitted(text: str, room: float, size: int) -> tuple[str, Font]:
    """The largest font up to ``size`` in which ``text`` fits ``room`` pixels across, and the
    text, cut short with "..." if it does not fit even at :data:`MIN_SIZE`."""
    size = max(MIN_SIZE, int(size))
    while size > MIN_SIZE and width(text, font(size)) > room:
        size -= 1
    face = font(size)
    if width(text, face) <= room:
        return text, face
    cut = plain(text)
    while cut and width(cut + "...", face) > room:
        cut = cut[:-1]
    return (cut + "..." if cut else ""), face


def draw(
    canvas: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, face: Font, fill: RGB
) -> None:
    """``text`` with its top-left corner at ``xy`` (the top of the line, not of the glyphs)."""
    x, y = xy
    ascent = face.getmetrics()[0]
    for run in _runs(text):
        advance = _advance(run, face)
        if run in ARROWS:
            _arrow(canvas, x, y, advance, ascent, ARROWS[run], face.size, fill)
        elif run != " ":
            canvas.text((x, y + ascent), run, font=face, fill=fill, anchor="ls")
        x += advance


def _arrow(
    canvas: ImageDraw.ImageDraw,
    x: float,
    y: float,
    advance: float,
    ascent: int,
    degrees: float,
    size: int,
    fill: RGB,
) -> None:
    """An arrow in the box of one character, centred on the height of a lower-case letter."""
    stroke = max(1, round(size / 11))
    half = advance * 0.38
    centre_x, centre_y = x + advance / 2, y + ascent - size * 0.36
    angle = math.radians(degrees)
    dx, dy = math.cos(angle) * half, -math.sin(angle) * half
    tail, head = (centre_x - dx, centre_y - dy), (centre_x + dx, centre_y + dy)
    canvas.line([tail, head], fill=fill, width=stroke)
    barb = half * 0.75
    for side in (-1, 1):
        back = angle + math.pi + side * math.radians(35)
        end = (head[0] + math.cos(back) * barb, head[1] - math.sin(back) * barb)
        canvas.line([head, end], fill=fill, width=stroke)
