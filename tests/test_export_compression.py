"""Exports of the compression view (``GET /api/export?view=compression…``, ``dropout-lab
render``): the network at each checkpoint with only its kept connections, the log α histogram,
as GIF, MP4 and standalone HTML. A small network (moons, 2-16-16-2, 10 epochs) keeps the runs
short; one export of the default digits network checks the pixel map of its inputs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from exports import export, gif_frames, near
from fastapi.testclient import TestClient

from app.export import prepare
from app.render import THEMES, drawn_views, renderer_of
from app.render.compression import BLUE, _boxes
from app.render.theme import ORANGE, SKY
from app.state import parse_state
from dropouts.lab.views import BUILT

BIN = Path(sys.executable).parent
SMALL = "view=compression&method=compression&dataset=moons&width=16&epochs=10&seed=3"


def test_the_view_has_a_renderer_and_a_gif_plays_its_checkpoints(client: TestClient) -> None:
    assert "compression" in drawn_views() and "compression" in BUILT
    data = export(client, f"{SMALL}&format=gif&frames=4&size=320x180&start=0")
    frames = gif_frames(data)
    assert len(frames) == 4 and all(frame.shape == (180, 320, 3) for frame in frames)
    assert not np.array_equal(frames[0], frames[3])  # training moves: the weights, the pruning
    assert export(client, f"{SMALL}&format=gif&frames=4&size=320x180&start=0") == data
    late = gif_frames(export(client, f"{SMALL}&format=gif&frames=1&size=320x180&start=99"))[0]
    assert not np.array_equal(frames[0], late)


def test_only_the_kept_connections_are_drawn() -> None:
    size = (480, 270)
    diagram = _boxes(size).diagram
    counts = {}
    for threshold in ("-8", "3", "8"):
        state = parse_state(
            {**dict(p.split("=") for p in SMALL.split("&")), "threshold": threshold, "i": "99"}
        )
        panel = prepare(state, None)[0]  # type: ignore[arg-type]
        frame = BUILT["compression"].frame(
            "compression", panel.params, 3, 99, panel.scene, panel.theory
        )
        picture = np.asarray(renderer_of("compression").render(panel, frame, size, THEMES["light"]))
        assert picture.shape == (270, 480, 3)
        left, top, right, bottom = diagram
        box = picture[top:bottom, left:right]
        counts[threshold] = int((near(box, BLUE, 120) | near(box, ORANGE, 120)).sum())
        kept = int(frame.stats["weights_kept"])
        if threshold == "-8":
            assert kept == 0
    assert counts["-8"] == 0  # everything pruned: no connection at all
    assert 0 < counts["3"] <= counts["8"]  # a higher threshold keeps more, and draws more


def test_the_digits_network_shows_its_pixels_in_both_themes() -> None:
    state = parse_state({"view": "compression", "method": "compression", "i": "99"})
    panel = prepare(state, None)[0]  # type: ignore[arg-type]
    frame = BUILT["compression"].frame(
        "compression", panel.params, 0, 99, panel.scene, panel.theory
    )
    size = (640, 300)
    left, top, _, bottom = _boxes(size).diagram
    for theme in THEMES.values():
        picture = np.asarray(renderer_of("compression").render(panel, frame, size, theme))
        assert tuple(picture[0, 0]) == theme.paper
        assert near(picture[top:bottom, left : left + 80], SKY, 60).sum() > 200  # the 8 x 8 map


def test_mp4_and_html_exports(client: TestClient) -> None:
    mp4 = export(client, f"{SMALL}&format=mp4&frames=3&size=320x180")
    assert mp4[4:8] == b"ftyp"
    html = export(client, f"{SMALL}&format=html&frames=3&size=320x180&stats=true").decode()
    # the three frames in the player's list, and the first one shown at once
    assert len(re.findall(r"data:image/webp;base64,[A-Za-z0-9+/]{40}", html)) == 4
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_the_command_line_gives_the_web_export(client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "compression.gif"
    result = subprocess.run(
        [str(BIN / "dropout-lab"), "render", "compression", "--view", "compression",
         "--dataset", "moons", "--width", "16", "--epochs", "10", "--seed", "3",
         "--threshold", "2", "--start", "90", "--frames", "3", "--size", "160x96",
         "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(client, f"{SMALL}&threshold=2&i=90&format=gif&frames=3&size=160x96")
    assert out.read_bytes() == web


@pytest.mark.parametrize(
    ("query", "field"),
    [("width=7", "width"), ("variant=l0", "variant"), ("snr=0", "snr"), ("start=100", "start")],
)
def test_bad_exports_name_the_field(client: TestClient, query: str, field: str) -> None:
    # A bad value given once (a repeated name is read as its first value, as the page reads it).
    name = query.split("=")[0]
    small = "&".join(part for part in SMALL.split("&") if part.split("=")[0] != name)
    response = client.get(f"/api/export?{small}&format=gif&frames=2&{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
