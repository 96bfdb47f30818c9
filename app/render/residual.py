"""The residual view's panel (DropPath, Huang et al. 2016): the batch through the residual
stack, as the page draws it.

As on the page (static/js/views/residual.js, the stack): a row per sample, its patch of the
picture on the left; its main line, the shortcut, in ink, with an arrow into the outputs; per
block an arch leaving the line and joining it again, the branch: blue with a light blue box
when kept, grey, dashed and hollow with a vermilion cross on its way in when DropPath dropped
it this iteration; right of the stack the sample's output ``|H_L|`` while training and at test
time (grey levels from the frame and the theory, nearest-neighbour), and its depth ("7/8").
Under the batch, a rule and the test-time network: every branch. Column heads over it, a
one-line legend under it when there is room. On the projector theme a kept branch is sky blue,
as on the page.

Geometry (lines, arches, crosses) is drawn at three times the size and reduced; the pictures
and the text are put on at the final size. Text too small to read is left out.
"""

from __future__ import annotations

import base64
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from dropouts.lab.views.base import Frame, JsonArray
from dropouts.lab.views.residual import ResidualScene

from . import text
from .base import PanelInput, Size, StatRow, ViewRenderer
from .theme import BLUE, SKY, VERMILION, Theme, blend

GREY = (0x9A, 0x9A, 0x9A)
SUPERSAMPLE = 3
MAX_SUPERSAMPLED = 9_000_000


@dataclass(frozen=True)
class Plan:
    """Where everything goes in a box of ``size``."""

    thumb: int  # a thumbnail's side
    row: int  # a row's height
    head: int  # the column heads' height
    x0: float  # the stack's left end
    x1: float  # its right end
    out_x: int  # the first output's left
    text_x: float  # the depth column's centre
    test_top: int  # the test-time row's top
    legend_top: int | None
    face: text.Font | None  # heads and depths
    legend_face: text.Font | None
    legend: tuple[str, ...] = ()  # the legend's labels: LEGEND, and OUTPUT_LABEL when it fits


def _counts(panel: PanelInput) -> tuple[int, int]:
    theory = panel.theory_json
    return int(theory["batch"]), int(theory["blocks"])


def aspect(panel: PanelInput) -> float:
    """Width / height of the drawing: a cell of about 1.3 rows per block, the thumbnails and
    the depth column across; the rows, the test row, the heads and the legend down."""
    batch, blocks = _counts(panel)
    across = 1.0 + 0.3 + 1.3 * blocks + 0.4 + 2.1 + 1.4
    down = batch + 1 + 0.9 + 0.3 + 0.6
    return max(1.1, min(2.6, across / down))


def plan(batch: int, blocks: int, size: Size) -> Plan:
    """The layout; when the type is legible, the rows give up to a fifth of their height so
    that the legend fits under the test-time row."""
    width, height = size
    down = batch + 1 + 0.9 + 0.3 + 0.6
    row = max(4, int(min(height / down, width / (3.4 + 1.0 * blocks + 3.5))))
    first = _plan(batch, blocks, size, row)
    if first.face is None or first.legend_top is not None:
        return first
    for smaller in range(row - 1, max(3, int(0.8 * row)) - 1, -1):
        candidate = _plan(batch, blocks, size, smaller)
        if candidate.face is not None and candidate.legend_top is not None:
            return candidate
    return first


def _plan(batch: int, blocks: int, size: Size, row: int) -> Plan:
    width, height = size
    thumb = max(2, row - max(2, row // 7))
    type_size = max(text.MIN_SIZE, min(22, round(0.42 * row)))
    face = text.font(type_size) if 0.42 * row >= text.MIN_SIZE else None
    head = round(1.9 * text.line_height(face)) if face else 0
    depth_width = text.width("16/16", face) + 6 if face else 0.0
    out_x = round(width - depth_width - 2 * thumb - max(2, row // 6) - 4)
    x0 = 0.3 * row + thumb + 0.35 * row
    x1 = out_x - 0.45 * row
    test_top = head + batch * row + max(3, row // 3)
    legend_top: int | None = None
    legend_face: text.Font | None = None
    labels: tuple[str, ...] = ()
    if face is not None:
        candidate = text.font(max(text.MIN_SIZE, min(type_size, round(width / 60))))
        line = text.line_height(candidate)
        if test_top + row + line + 4 <= height and _legend_width(candidate, LEGEND) <= width - 8:
            legend_top, legend_face = test_top + row + 3, candidate
            full = (*LEGEND, OUTPUT_LABEL)
            labels = full if _legend_width(candidate, full) <= width - 8 else LEGEND
    return Plan(
        thumb,
        row,
        head,
        x0,
        x1,
        out_x,
        width - depth_width / 2 - 2,
        test_top,
        legend_top,
        face,
        legend_face,
        labels,
    )


LEGEND = ("shortcut, never dropped", "branch kept, x 1/s", "branch dropped")
OUTPUT_LABEL = "output |H|: black 0, white the test output's max"


def _legend_width(face: text.Font, labels: tuple[str, ...]) -> float:
    glyph = 2.6 * face.size
    gaps = 1.2 * face.size * (len(labels) - 1)
    return sum(glyph + text.width(label, face) for label in labels) + gaps


def _arrays(frame: Frame) -> tuple[list[list[float]], list[dict[str, Any]]]:
    gates, samples = frame.arrays["gates"], frame.arrays["samples"]
    if not isinstance(gates, JsonArray) or not isinstance(samples, JsonArray):
        raise TypeError("the residual view draws its gates and samples")
    return gates.value, samples.value


def _row_geometry(
    draw: ImageDraw.ImageDraw,
    top: float,
    p: Plan,
    blocks: int,
    gates: list[float] | None,
    ink: tuple[int, int, int],
    kept_colour: tuple[int, int, int],
    paper: tuple[int, int, int],
    ss: int,
) -> None:
    """One row's shortcut and branches, in supersampled pixels."""
    cell = (p.x1 - p.x0) / blocks
    y0 = (top + p.row * 0.74) * ss
    yb = (top + p.row * 0.3) * ss
    span = min(cell * 0.72, p.row * 1.5)
    box_w = max(3.0, min(span * 0.45, 30.0)) * ss
    box_h = max(3.0, min(p.row * 0.3, 18.0)) * ss
    stroke = max(ss, round(max(1.0, min(3.0, cell / 12, p.row / 16)) * ss))
    draw.line([(p.x0 * ss - 4 * ss, y0), (p.x1 * ss + 2 * ss, y0)], fill=ink, width=stroke + ss)
    tip = p.x1 * ss + 8 * ss
    half = 4 * ss
    draw.polygon([(p.x1 * ss + 2 * ss, y0 - half), (tip, y0), (p.x1 * ss + 2 * ss, y0 + half)], ink)
    for index in range(blocks):
        cx = (p.x0 + cell * (index + 0.5)) * ss
        left, right = cx - span / 2 * ss, cx + span / 2 * ss
        dropped = gates is not None and gates[index] == 0
        colour = GREY if dropped else kept_colour
        legs = [
            [(left, y0), (left, yb), (cx - box_w / 2, yb)],
            [(cx + box_w / 2, yb), (right, yb), (right, y0)],
        ]
        for leg in legs:
            if dropped:
                for a, b in itertools.pairwise(leg):
                    _dashed(draw, a, b, colour, stroke, 4 * ss, 3 * ss)
            else:
                draw.line(leg, fill=colour, width=stroke, joint="curve")
        box = [cx - box_w / 2, yb - box_h / 2, cx + box_w / 2, yb + box_h / 2]
        fill = paper if dropped else blend(paper, kept_colour, 0.22)
        draw.rounded_rectangle(box, radius=3 * ss, fill=fill, outline=colour, width=stroke)
        r = stroke / 2 + 1.5 * ss
        draw.ellipse([right - r, y0 - r, right + r, y0 + r], fill=paper if dropped else colour)
        draw.ellipse([right - r, y0 - r, right + r, y0 + r], outline=colour, width=ss)
        if dropped:
            d = max(2.0, min(7.0, cell * 0.16)) * ss
            cy = (y0 + yb) / 2
            cross = max(2 * ss, stroke + ss)
            draw.line([(left - d, cy - d), (left + d, cy + d)], fill=VERMILION, width=cross)
            draw.line([(left + d, cy - d), (left - d, cy + d)], fill=VERMILION, width=cross)


def _dashed(
    draw: ImageDraw.ImageDraw,
    a: tuple[float, float],
    b: tuple[float, float],
    colour: tuple[int, int, int],
    width: int,
    dash: float,
    gap: float,
) -> None:
    length = math.dist(a, b)
    if length == 0:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    at = 0.0
    while at < length:
        end = min(length, at + dash)
        start_xy = (a[0] + ux * at, a[1] + uy * at)
        draw.line([start_xy, (a[0] + ux * end, a[1] + uy * end)], fill=colour, width=width)
        at = end + gap


def _patch(panel: PanelInput, sample: int, side: int) -> Image.Image:
    key = ("patch", sample, side)
    if key not in panel.cache:
        scene: ResidualScene = panel.scene.data
        row, column = scene.origins[sample]
        pool = int(panel.scene.info["pool"])
        span = pool * int(panel.scene.info["side"])
        picture = scene.picture
        _, height, width = picture.shape
        crop = np.zeros((3, span, span), dtype=np.float32)
        top, left = pool * row, pool * column
        part = picture[:, top : min(height, top + span), left : min(width, left + span)].numpy()
        crop[:, : part.shape[1], : part.shape[2]] = part
        pixels = (np.clip(crop, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)
        panel.cache[key] = Image.fromarray(pixels).resize((side, side), Image.Resampling.BILINEAR)
    patch: Image.Image = panel.cache[key]
    return patch


def _output(encoded: str, units: int, side: int) -> Image.Image:
    levels = np.frombuffer(base64.b64decode(encoded), dtype=np.uint8).reshape(units, units)
    return (
        Image.fromarray(levels, mode="L")
        .convert("RGB")
        .resize((side, side), Image.Resampling.NEAREST)
    )


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    batch, blocks = _counts(panel)
    key = ("plan", size)
    if key not in panel.cache:
        panel.cache[key] = plan(batch, blocks, size)
    p: Plan = panel.cache[key]
    gates, samples = _arrays(frame)
    width, height = size
    ink, paper = theme.ink, theme.panel
    kept_colour = SKY if theme.name == "contrast" else BLUE
    ss = SUPERSAMPLE if width * height * SUPERSAMPLE**2 <= MAX_SUPERSAMPLED else 2
    big = Image.new("RGB", (width * ss, height * ss), paper)
    draw = ImageDraw.Draw(big)
    for b in range(batch):
        _row_geometry(draw, p.head + b * p.row, p, blocks, gates[b], ink, kept_colour, paper, ss)
    rule_y = (p.test_top - max(2, p.row // 6)) * ss
    draw.line([(0, rule_y), (width * ss, rule_y)], fill=theme.line, width=ss)
    _row_geometry(draw, p.test_top, p, blocks, None, ink, kept_colour, paper, ss)
    if p.legend_top is not None and p.legend_face is not None:
        _legend_glyphs(draw, p, ink, kept_colour, paper, ss, width)
    image = big.reduce(ss)
    units = int(panel.theory_json["side"])
    tests = panel.theory_json["test"]["outputs"]
    gap = max(2, p.row // 6)
    for b in range(batch):
        top = p.head + b * p.row + (p.row - p.thumb) // 2
        image.paste(_patch(panel, b, p.thumb), (round(0.3 * p.row), top))
        image.paste(_output(samples[b]["output"], units, p.thumb), (p.out_x, top))
        image.paste(_output(tests[b], units, p.thumb), (p.out_x + p.thumb + gap, top))
    _text(image, panel, p, samples, blocks, theme)
    return image


def _legend_glyphs(
    draw: ImageDraw.ImageDraw,
    p: Plan,
    ink: tuple[int, int, int],
    kept_colour: tuple[int, int, int],
    paper: tuple[int, int, int],
    ss: int,
    width: int,
) -> None:
    assert p.legend_top is not None and p.legend_face is not None
    face = p.legend_face
    centre = (p.legend_top + text.line_height(face) / 2) * ss
    stroke = max(ss, round(0.15 * face.size * ss))
    for index, left in enumerate(_legend_lefts(p, width)):
        a, b = left * ss, (left + 1.7 * face.size) * ss
        low, high = centre + 0.35 * face.size * ss, centre - 0.35 * face.size * ss
        if index == 0:
            draw.line([(a, centre), (b, centre)], fill=ink, width=stroke + ss)
        elif index == 1:
            draw.line([(a, low), (a, high), (b, high), (b, low)], fill=kept_colour, width=stroke)
        elif index == 3:  # the outputs' grey levels: black 0, white the maximum
            side = 0.8 * face.size * ss
            half_x = a + 0.85 * face.size * ss
            box = [half_x - side, centre - side / 2, half_x + side, centre + side / 2]
            draw.rectangle([box[0], box[1], half_x, box[3]], fill=(0, 0, 0))
            draw.rectangle([half_x, box[1], box[2], box[3]], fill=(255, 255, 255))
            draw.rectangle(box, outline=ink, width=ss)
        else:
            for start, end in (
                ((a, low), (a, high)),
                ((a, high), (b, high)),
                ((b, high), (b, low)),
            ):
                _dashed(draw, start, end, GREY, stroke, 0.3 * face.size * ss, 0.2 * face.size * ss)
            d = 0.3 * face.size * ss
            cy = centre
            draw.line([(a - d, cy - d), (a + d, cy + d)], fill=VERMILION, width=stroke + ss)
            draw.line([(a + d, cy - d), (a - d, cy + d)], fill=VERMILION, width=stroke + ss)
    del paper


def _legend_lefts(p: Plan, width: int) -> list[float]:
    assert p.legend_face is not None
    face = p.legend_face
    total = _legend_width(face, p.legend)
    x = (width - total) / 2
    lefts = []
    for label in p.legend:
        lefts.append(x + 0.3 * face.size)
        x += 2.6 * face.size + text.width(label, face) + 1.2 * face.size
    return lefts


def _text(
    image: Image.Image,
    panel: PanelInput,
    p: Plan,
    samples: list[dict[str, Any]],
    blocks: int,
    theme: Theme,
) -> None:
    if p.face is None:
        return
    draw = ImageDraw.Draw(image)
    face = p.face
    line = text.line_height(face)

    def centred(x: float, y: float, words: str, colour: tuple[int, int, int] = theme.ink) -> None:
        text.draw(draw, (round(x - text.width(words, face) / 2), round(y)), words, face, colour)

    cell = (p.x1 - p.x0) / blocks
    gap = max(2, p.row // 6)
    centred(0.3 * p.row + p.thumb / 2, 1, "sample")
    centred((p.x0 + p.x1) / 2, 1, f"{blocks} residual blocks: H + branch f(H)")
    centred(p.out_x + p.thumb / 2, line, "train", theme.muted)
    centred(p.out_x + 1.5 * p.thumb + gap, line, "test", theme.muted)
    centred(p.text_x, 1, "depth")
    centred(p.out_x + p.thumb + gap / 2, 1, "output")
    every = 1 if cell >= 1.6 * face.size else 2
    for index in range(blocks):
        if index % every == 0 or index == blocks - 1:
            centred(p.x0 + cell * (index + 0.5), line, str(index + 1), theme.muted)
    for b, sample in enumerate(samples):
        top = p.head + b * p.row + (p.row - line) / 2
        centred(p.text_x, top, f"{sample['depth']}/{blocks}")
    centred(0.3 * p.row + p.thumb / 2, p.test_top + (p.row - line) / 2, "test")
    centred(p.text_x, p.test_top + (p.row - line) / 2, f"{blocks}/{blocks}")
    if p.legend_top is not None and p.legend_face is not None:
        legend_face = p.legend_face
        for label, left in zip(p.legend, _legend_lefts(p, image.width), strict=True):
            x = left + 2.3 * legend_face.size
            text.draw(draw, (round(x), p.legend_top), label, legend_face, theme.ink)
    del panel


ROWS = (
    StatRow("branches dropped", "dropped_fraction", "expected_dropped_fraction"),
    StatRow("depth, mean over the batch", "depth_mean", "expected_depth", 2),
    StatRow("output vs test network", "output_change", None),
)

RENDERER = ViewRenderer(render, aspect, lambda panel: ROWS)
