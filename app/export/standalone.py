"""The standalone HTML export: one file that plays the frames offline, with no server.

Everything is inline: the frames (lossless WebP data URLs, each iteration once), the styles, the
player's script, the formula (MathML, which the browser sets itself, and its LaTeX as text) and
the paper (as text). A Content-Security-Policy in the file forbids any request but ``data:``
images, so the file cannot reach the network even by mistake; a ``data:`` icon keeps the browser
from asking for ``favicon.ico``.

The player: play / pause, step back and forward, a slider over the frames, the keyboard (space
plays and pauses, ← and → step), looping at the export's frames per second; ``#play`` at the end
of the file's address starts it playing. With ``stats``, a table of this frame's statistics
against theory and an SVG chart of the dropped fraction (the mask's variance for noise) over the
exported frames, its marker following the player; the rows of that table are the view's own
(its renderer's ``rows``, :class:`~app.render.base.StatRow`).

The page is ``templates/standalone.html`` (Jinja2, the values escaped here), its style
``static/css/standalone.css`` and the player's script ``static/js/standalone/player.js`` (a
classic script, not one of the page's modules), each read once and inlined.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from dropouts.lab.registry import get_view

from ..config import Settings
from ..mathml import to_mathml
from ..render.base import PanelInput, StatRow
from ..render.layout import setting_text
from .options import ExportOptions, state_query

if TYPE_CHECKING:
    from ..state import LabState

PANEL_COLOURS = ("var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)")
CHART_WIDTH, CHART_HEIGHT = 640, 220
CHART_MARGIN = {"left": 52, "right": 12, "top": 12, "bottom": 36}

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
# The file's page, style and script, inlined as they are (the values arrive escaped).
PAGE = "standalone.html"
STYLE = Path("css") / "standalone.css"
SCRIPT = Path("js") / "standalone" / "player.js"


@cache
def _page() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Settings().templates_dir),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(PAGE)


@cache
def _static(path: Path) -> str:
    return (Settings().static_dir / path).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.replace("</", "<\\/")


def _rows(
    declared: tuple[StatRow, ...], panels: list[PanelInput], records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The statistics table: of the rows the view declares, those whose statistic the frames
    have (the dense view has no mask mean); per row its term, the stat's name, digits, and per
    panel the expected value (a number, or ``frame:<stat>`` when it changes with the frame)."""
    present = {name for record in records for stats in record["stats"] for name in stats}
    rows = []
    for row in declared:
        if row.stat not in present:
            continue
        values: list[Any] = []
        for panel in panels:
            if row.expected is None:
                values.append(None)
            elif row.expected.startswith("frame:"):
                values.append(row.expected)
            else:
                value = panel.theory_json.get(row.expected)
                values.append(float(value) if isinstance(value, int | float) else None)
        rows.append({"term": row.term, "stat": row.stat, "expected": values, "digits": row.digits})
    return rows


def _number(value: Any, digits: int) -> str:
    return "\u2013" if value is None else f"{float(value):.{digits}f}"


def _stats_table(panels: list[PanelInput], rows: list[dict[str, Any]]) -> str:
    names = [p.method.name for p in panels]
    head = "<th scope='col'></th>" + "".join(
        f"<th scope='col'>{html.escape(name)}</th><th scope='col'>expected</th>" for name in names
    )
    body = []
    for row in rows:
        cells = [f"<th scope='row'>{html.escape(row['term'])}</th>"]
        for index, expected in enumerate(row["expected"]):
            digits = row["digits"]
            cells.append(
                f"<td class='number' data-stat='{row['stat']}' data-panel='{index}' "
                f"data-digits='{digits}'></td>"
            )
            if isinstance(expected, str) and expected.startswith("frame:"):
                stat = expected.split(":", 1)[1]
                cells.append(
                    f"<td class='number' data-stat='{stat}' data-panel='{index}' "
                    f"data-digits='{digits}'></td>"
                )
            else:
                cells.append(f"<td class='number'>{_number(expected, digits)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<table id='numbers'><caption class='setting'>this frame, measured and expected</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _chart(panels: list[PanelInput], records: list[dict[str, Any]]) -> tuple[str, dict[str, float]]:
    """An SVG line chart of the dropped fraction (the mask variance for noise) per frame, each
    panel in its colour, its expectation dashed; a marker on the frame shown."""
    real = all(p.theory_json.get("mask_kind") == "real" for p in panels)
    stat, expected_key = (
        ("mask_variance", "mask_variance")
        if real
        else ("dropped_fraction", "expected_dropped_fraction")
    )
    left, top = CHART_MARGIN["left"], CHART_MARGIN["top"]
    width = CHART_WIDTH - left - CHART_MARGIN["right"]
    height = CHART_HEIGHT - top - CHART_MARGIN["bottom"]
    series = [[float(r["stats"][i].get(stat, 0.0)) for r in records] for i in range(len(panels))]
    expected = [p.theory_json.get(expected_key) for p in panels]
    values = [v for line in series for v in line] + [
        float(e) for e in expected if isinstance(e, int | float)
    ]
    top_value = max(0.05, *values) * 1.1
    if not real:
        top_value = min(1.0, top_value)
    count = len(records)

    def x(index: int) -> float:
        return left + (index / (count - 1) if count > 1 else 0.0) * width

    def y(value: float) -> float:
        return top + height - min(1.0, max(0.0, value / top_value)) * height

    axis_y = top + height
    middle = top + height / 2
    quantity = "variance" if real else "fraction"
    parts = [
        f"<svg class='chart' id='chart' viewBox='0 0 {CHART_WIDTH} {CHART_HEIGHT}' role='img' "
        f"aria-label='{'mask variance' if real else 'fraction dropped'} per exported frame' "
        "xmlns='http://www.w3.org/2000/svg'>",
        f"<line class='axis' x1='{left}' y1='{axis_y}' x2='{left + width}' y2='{axis_y}'/>",
        f"<line class='axis' x1='{left}' y1='{top}' x2='{left}' y2='{axis_y}'/>",
        f"<text x='{left - 6}' y='{axis_y}' text-anchor='end' dominant-baseline='middle'>0</text>",
        f"<text x='{left - 6}' y='{top + 4}' text-anchor='end' dominant-baseline='middle'>"
        f"{top_value:.2f}</text>",
        f"<text x='{left + width / 2:.1f}' y='{CHART_HEIGHT - 6}' text-anchor='middle'>"
        f"frame (1 to {count})</text>",
        f"<text x='12' y='{middle:.1f}' text-anchor='middle' "
        f"transform='rotate(-90 12 {middle:.1f})'>{quantity}</text>",
    ]
    for index, line in enumerate(series):
        colour = PANEL_COLOURS[index % len(PANEL_COLOURS)]
        points = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(line))
        parts.append(
            f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{points}'>"
            f"<title>{html.escape(panels[index].method.name)}, measured</title></polyline>"
        )
        if isinstance(expected[index], int | float):
            level = y(float(expected[index]))
            parts.append(
                f"<line x1='{left}' x2='{left + width}' y1='{level:.1f}' y2='{level:.1f}' "
                f"stroke='{colour}' stroke-dasharray='6 4' stroke-width='1.5'>"
                f"<title>{html.escape(panels[index].method.name)}, expected</title></line>"
            )
    parts.append(
        f"<line class='marker' id='marker' x1='{left}' x2='{left}' y1='{top}' y2='{top + height}'/>"
    )
    parts.append("</svg>")
    return "".join(parts), {"left": float(left), "width": float(width)}


def _about(panels: list[PanelInput]) -> str:
    seen: list[str] = []
    blocks = []
    for panel in panels:
        method = panel.method
        if method.id in seen:
            continue
        seen.append(method.id)
        papers = "".join(
            f"<li>{html.escape(paper.cite())} "
            f"<span class='latex'>{html.escape(paper.url)}</span></li>"
            for paper in method.papers
        )
        blocks.append(
            f"<section class='about'><h2>{html.escape(method.name)}</h2>"
            f"<p>{html.escape(method.summary)}</p>"
            f"<div class='formula'>{to_mathml(method.formula)}</div>"
            f"<p class='latex'>LaTeX: <code>{html.escape(method.formula)}</code></p>"
            f"<p>Test time: {html.escape(method.test_time)}</p>"
            f"<ul class='papers'>{papers}</ul></section>"
        )
    return "".join(blocks)


def standalone_html(
    state: LabState,
    options: ExportOptions,
    panels: list[PanelInput],
    images: list[str],
    sequence: list[int],
    records: list[dict[str, Any]],
    rows: Callable[[PanelInput], tuple[StatRow, ...]],
) -> bytes:
    """The file: ``images`` (data URLs) shown in the order ``sequence`` (indices into them),
    ``records`` each frame's iteration and per-panel statistics, ``rows`` the view's
    statistics rows (its renderer's)."""

    view_label = get_view(state.view).label
    if state.comparison:
        title = " vs ".join(p.method.name for p in panels) + f" on {view_label}"
        setting = "; ".join(
            f"{p.method.name}: {setting_text(p.params) or 'no parameters'}" for p in panels
        )
    else:
        title = f"{panels[0].method.name} on {view_label}"
        setting = setting_text(panels[0].params) or "no parameters"
    width, height = options.size
    meta: dict[str, Any] = {
        "fps": options.fps,
        "alt": f"{title}: {setting}",
        "frames": [
            {"iteration": record["iteration"], "image": image, "stats": record["stats"]}
            for record, image in zip(records, sequence, strict=True)
        ],
        "chart": None,
    }
    statistics = ""
    if options.stats:
        table = _stats_table(panels, _rows(rows(panels[0]), panels, records))
        chart, geometry = _chart(panels, records)
        meta["chart"] = geometry
        statistics = f"<h2>Statistics</h2>{table}<h2>Over the frames</h2>{chart}"
    else:
        meta["frames"] = [
            {k: v for k, v in f.items() if k != "stats"} | {"stats": []} for f in meta["frames"]
        ]
    query = "&".join(f"{k}={v}" for k, v in state_query(state, options).items())
    count = len(sequence)
    first = images[sequence[0]]
    document = _page().render(
        theme=options.theme,
        policy=POLICY,
        title=html.escape(title),
        style=_static(STYLE),
        setting=html.escape(setting),
        seed=state.seed,
        image=html.escape(state.image),
        first=first,
        width=width,
        height=height,
        last=count - 1,
        iteration=records[0]["iteration"],
        count=count,
        fps=options.fps,
        statistics=statistics,
        about=_about(panels),
        query=html.escape(query),
        images=_script_json(images),
        meta=_script_json(meta),
        script=_static(SCRIPT),
    )
    return document.encode("utf-8")
