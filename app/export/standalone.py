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
exported frames, its marker following the player.
"""

from __future__ import annotations

import html
import json
import string
from typing import TYPE_CHECKING, Any

from dropouts.lab.registry import get_view

from ..mathml import to_mathml
from ..render.base import PanelInput
from ..render.layout import setting_text
from .options import ExportOptions, state_query

if TYPE_CHECKING:
    from ..state import LabState

PANEL_COLOURS = ("var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)")
CHART_WIDTH, CHART_HEIGHT = 640, 220
CHART_MARGIN = {"left": 52, "right": 12, "top": 12, "bottom": 36}

STYLE = """
:root { --ink: #161616; --muted: #4a4a4a; --paper: #fbfbf8; --panel: #ffffff; --line: #d6d6d0;
  --accent: #0072b2; --accent-ink: #ffffff; --c0: #0072b2; --c1: #e69f00; --c2: #009e73;
  --c3: #d55e00; color-scheme: light; }
:root[data-theme="contrast"] { --ink: #ffffff; --muted: #e8e8e8; --paper: #000000;
  --panel: #0d0d0d; --line: #8a8a8a; --accent: #56b4e9; --accent-ink: #000000; --c0: #56b4e9;
  --c1: #f0e442; --c2: #009e73; --c3: #e69f00; color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 .2rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; }
.setting { margin: 0 0 .6rem; color: var(--muted); }
figure { margin: 0; }
#frame { display: block; max-width: 100%; height: auto; image-rendering: pixelated;
  border: 1px solid var(--line); background: var(--panel); }
.player { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .6rem 0; }
.player button { font: inherit; font-weight: 700; min-width: 2.6rem; padding: .35rem .8rem;
  border-radius: 8px; border: 1px solid var(--line); background: var(--panel); color: var(--ink);
  cursor: pointer; }
.player button#play { background: var(--accent); color: var(--accent-ink);
  border-color: var(--accent); }
.player button:focus-visible, .player input:focus-visible { outline: 3px solid #e69f00;
  outline-offset: 2px; }
.player input[type=range] { flex: 1 1 14rem; accent-color: var(--accent); }
.position { font-variant-numeric: tabular-nums; min-width: 12rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .2rem .7rem .2rem 0; text-align: left; border-bottom: 1px solid var(--line); }
td.number { text-align: right; }
.chart { width: 100%; max-width: 640px; height: auto; display: block; }
.chart text { fill: var(--muted); font-size: 12px; }
.chart .axis { stroke: var(--line); }
.chart .marker { stroke: var(--ink); stroke-width: 1.5; }
.about { border-top: 1px solid var(--line); margin-top: 1rem; }
.formula { overflow-x: auto; font-size: 1.15rem; }
.latex, .query { font-size: .85rem; color: var(--muted); word-break: break-all; }
footer { margin-top: 1.2rem; font-size: .85rem; color: var(--muted); }
"""

SCRIPT = """
(() => {
  "use strict";
  const images = JSON.parse(document.getElementById("images").textContent);
  const meta = JSON.parse(document.getElementById("meta").textContent);
  const frames = meta.frames;
  const count = frames.length;
  const $ = (id) => document.getElementById(id);
  const picture = $("frame");
  const play = $("play");
  const scrub = $("scrub");
  let index = 0;
  let timer = null;
  let wanted = 0;

  function fmt(value, digits) {
    return value === null || value === undefined ? "\\u2013" : Number(value).toFixed(digits ?? 3);
  }

  function show(next) {
    index = ((next % count) + count) % count;
    const frame = frames[index];
    const url = images[frame.image];
    const token = ++wanted;
    // Decode off screen first, then swap: no blank frame between two pictures.
    const probe = new Image();
    probe.src = url;
    probe.decode().catch(() => {}).then(() => {
      if (token === wanted) {
        picture.src = url;
        picture.dataset.frame = String(index);
      }
    });
    picture.alt = `${meta.alt}, iteration ${frame.iteration}`;
    $("iteration").textContent = String(frame.iteration);
    $("frame-number").textContent = String(index + 1);
    scrub.value = String(index);
    for (const cell of document.querySelectorAll("[data-stat]")) {
      const panel = Number(cell.dataset.panel);
      cell.textContent = fmt(frame.stats[panel][cell.dataset.stat], Number(cell.dataset.digits));
    }
    const marker = $("marker");
    if (marker) {
      const x = meta.chart.left + (count > 1 ? index / (count - 1) : 0) * meta.chart.width;
      marker.setAttribute("x1", x.toFixed(1));
      marker.setAttribute("x2", x.toFixed(1));
    }
  }

  function setPlaying(playing) {
    if (playing === (timer !== null)) return;
    if (playing) {
      timer = setInterval(() => show(index + 1), 1000 / meta.fps);
    } else {
      clearInterval(timer);
      timer = null;
    }
    play.textContent = playing ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(playing));
    play.setAttribute("aria-label", playing ? "pause" : "play");
  }

  play.addEventListener("click", () => setPlaying(timer === null));
  $("back").addEventListener("click", () => { setPlaying(false); show(index - 1); });
  $("forward").addEventListener("click", () => { setPlaying(false); show(index + 1); });
  scrub.addEventListener("input", () => { setPlaying(false); show(Number(scrub.value)); });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " || event.key === "Spacebar") {
      if (event.target instanceof HTMLButtonElement) return; // the button's own click toggles
      event.preventDefault();
      setPlaying(timer === null);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      if (event.target === scrub) return; // the slider steps itself
      event.preventDefault();
      setPlaying(false);
      show(index + (event.key === "ArrowRight" ? 1 : -1));
    }
  });
  show(0);
  if (location.hash === "#play") setPlaying(true);
})();
"""


POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
DOCUMENT = string.Template(
    """<!doctype html>
<html lang="en" data-theme="$theme">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$policy">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title - Dropout Lab</title>
<link rel="icon" href="data:,">
<style>$style</style>
</head>
<body>
<main>
<h1>$title</h1>
<p class="setting">$setting · seed $seed · image $image</p>
<figure>
<img id="frame" src="$first" width="$width" height="$height" alt="$title" data-frame="0">
</figure>
<div class="player" role="group" aria-label="player">
<button id="play" type="button" aria-pressed="false" aria-label="play">Play</button>
<button id="back" type="button" aria-label="step back">&larr;</button>
<button id="forward" type="button" aria-label="step forward">&rarr;</button>
<input id="scrub" type="range" min="0" max="$last" step="1" value="0" aria-label="frame">
<span class="position">iteration <span id="iteration">$iteration</span> ·
frame <span id="frame-number">1</span> of $count · $fps / s</span>
</div>
$statistics
$about
<footer>
<p>Exported from Dropout Lab: $count frames, the iterations looping over 0-99 as the lab's
player does; the same state gives the same frames on any machine. Space plays and pauses,
&larr; and &rarr; step; add #play to the file's address to start it playing.</p>
<p class="query">$query</p>
</footer>
</main>
<script type="application/json" id="images">$images</script>
<script type="application/json" id="meta">$meta</script>
<script>$script</script>
</body>
</html>
"""
)


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.replace("</", "<\\/")


def _rows(
    view: str, panels: list[PanelInput], records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The statistics table: per row its term, the stat's name, digits, and per panel the
    expected value (a number, or ``frame:<stat>`` when it changes with the frame)."""
    if view == "pooling":
        spec = [
            ("units dropped", "dropped_fraction", "expected_dropped_fraction", 3),
            ("windows not won by their max", "changed_fraction", "expected_changed_fraction", 3),
            (
                "Monte Carlo mean - weighted pooling, RMS",
                "mc_rms_error",
                "frame:mc_rms_expected",
                4,
            ),
        ]
    elif view == "residual":
        spec = [
            ("branches dropped", "dropped_fraction", "expected_dropped_fraction", 3),
            ("depth, mean over the batch", "depth_mean", "expected_depth", 2),
            ("output vs test network", "output_change", None, 3),
        ]
    else:
        unit = str(panels[0].theory_json.get("unit", "unit"))
        spec = [
            (f"{unit}s dropped", "dropped_fraction", "expected_dropped_fraction", 3),
            ("mask mean (factor per unit)", "mask_mean", "mask_mean", 3),
            ("mask variance", "mask_variance", "mask_variance", 3),
            ("output mean / input mean", "output_mean_ratio", None, 3),
        ]
        if any("p_t" in stats for record in records for stats in record["stats"]):
            spec.append(("p this iteration", "p_t", None, 3))
    # Only the statistics the view's frames have (the dense view has no mask mean).
    present = {name for record in records for stats in record["stats"] for name in stats}
    spec = [row for row in spec if row[1] in present]
    rows = []
    for term, stat, expected, digits in spec:
        values: list[Any] = []
        for panel in panels:
            if expected is None:
                values.append(None)
            elif expected.startswith("frame:"):
                values.append(expected)
            else:
                value = panel.theory_json.get(expected)
                values.append(float(value) if isinstance(value, int | float) else None)
        rows.append({"term": term, "stat": stat, "expected": values, "digits": digits})
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
) -> bytes:
    """The file: ``images`` (data URLs) shown in the order ``sequence`` (indices into them),
    ``records`` each frame's iteration and per-panel statistics."""

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
        rows = _rows(state.view, panels, records)
        chart, geometry = _chart(panels, records)
        meta["chart"] = geometry
        statistics = (
            f"<h2>Statistics</h2>{_stats_table(panels, rows)}<h2>Over the frames</h2>{chart}"
        )
    else:
        meta["frames"] = [
            {k: v for k, v in f.items() if k != "stats"} | {"stats": []} for f in meta["frames"]
        ]
    query = "&".join(f"{k}={v}" for k, v in state_query(state, options).items())
    count = len(sequence)
    first = images[sequence[0]]
    document = DOCUMENT.substitute(
        theme=options.theme,
        policy=POLICY,
        title=html.escape(title),
        style=STYLE,
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
        script=SCRIPT,
    )
    return document.encode("utf-8")
