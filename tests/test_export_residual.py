"""Exports of the residual view (``GET /api/export?view=residual…``, ``dropout-lab render``):
the batch through the residual stack, a dropped branch crossed out in vermilion, as GIF, MP4
and standalone HTML. The drawing is checked against the frame's gates: a cross sits on the
way into block l of sample b exactly when DropPath dropped that branch (per sample in row
mode, the same blocks for every sample in batch mode).
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

from app.config import Settings
from app.export import prepare
from app.images import ImageStore
from app.render import THEMES, drawn_views, renderer_of
from app.render.residual import BLUE, plan
from app.render.theme import SKY, VERMILION
from app.state import parse_state
from dropouts.lab.views import BUILT
from dropouts.lab.views.base import Frame, JsonArray

BIN = Path(sys.executable).parent
BASE = "view=residual&method=droppath"


def drawn(
    given: dict[str, str], iteration: int, size: tuple[int, int], theme: str = "light"
) -> tuple[np.ndarray, list[list[float]], int, int]:
    """(picture, gates, batch, blocks) of one frame drawn by the renderer, as an export does."""
    state = parse_state({"view": "residual", "method": "droppath", **given})
    panel = prepare(state, ImageStore(Settings()).get("cat").tensor)[0]
    frame: Frame = BUILT["residual"].frame(
        "droppath", panel.params, 0, iteration, panel.scene, panel.theory
    )
    picture = np.asarray(renderer_of("residual").render(panel, frame, size, THEMES[theme]))
    gates = frame.arrays["gates"]
    assert isinstance(gates, JsonArray)
    theory = panel.theory_json
    return picture, gates.value, int(theory["batch"]), int(theory["blocks"])


def crosses(picture: np.ndarray, batch: int, blocks: int, size: tuple[int, int]) -> np.ndarray:
    """(batch, blocks): whether a vermilion cross is drawn on the way into each branch."""
    p = plan(batch, blocks, size)
    cell = (p.x1 - p.x0) / blocks
    span = min(cell * 0.72, p.row * 1.5)
    found = np.zeros((batch, blocks), dtype=bool)
    for b in range(batch):
        top = p.head + b * p.row
        y = top + p.row * (0.74 + 0.3) / 2
        for index in range(blocks):
            x = p.x0 + cell * (index + 0.5) - span / 2
            reach = max(2.0, min(7.0, cell * 0.16)) + 2
            box = picture[int(y - reach) : int(y + reach) + 1, int(x - reach) : int(x + reach) + 1]
            found[b, index] = bool(near(box, VERMILION, 60).sum() >= 3)
    return found


def test_the_view_has_a_renderer_and_a_gif_follows_the_gates(client: TestClient) -> None:
    assert "residual" in drawn_views() and "residual" in BUILT
    query = f"{BASE}&p=0.5&format=gif&frames=4&size=640x360"
    data = export(client, query)
    frames = gif_frames(data)
    assert len(frames) == 4 and all(frame.shape == (360, 640, 3) for frame in frames)
    assert any(not np.array_equal(frames[0], frame) for frame in frames[1:])
    assert export(client, query) == data  # deterministic
    assert any(near(frame, VERMILION).any() for frame in frames)  # a dropped branch, crossed


@pytest.mark.parametrize("size", [(96, 64), (320, 180), (1280, 720)])
def test_any_size_gives_a_picture_of_that_size(size: tuple[int, int]) -> None:
    picture, *_ = drawn({"p": "0.5", "batch": "16", "blocks": "16"}, 0, size)
    assert picture.shape == (size[1], size[0], 3)


def test_a_cross_is_drawn_exactly_on_the_dropped_branches_of_each_sample() -> None:
    size = (960, 540)
    seen_mixed = False
    for iteration in range(4):
        picture, gates, batch, blocks = drawn({"p": "0.5", "rule": "constant"}, iteration, size)
        expected = np.asarray(gates) == 0
        np.testing.assert_array_equal(crosses(picture, batch, blocks, size), expected)
        seen_mixed |= bool((expected.any(axis=0) & ~expected.all(axis=0)).any())
    assert seen_mixed  # row mode: some block dropped for some samples and not for others


def test_batch_mode_crosses_the_same_blocks_in_every_row() -> None:
    size = (960, 540)
    dropped_any = False
    for iteration in range(6):
        given = {"p": "0.5", "rule": "constant", "mode": "batch"}
        picture, gates, batch, blocks = drawn(given, iteration, size)
        found = crosses(picture, batch, blocks, size)
        np.testing.assert_array_equal(found, np.asarray(gates) == 0)
        assert bool((found == found[0]).all())  # every sample alike
        dropped_any |= bool(found.any())
    assert dropped_any


def test_both_themes_draw_the_kept_branches_in_their_colour() -> None:
    size = (640, 360)
    for name, kept in (("light", BLUE), ("contrast", SKY)):
        picture, *_ = drawn({"p": "0.2"}, 0, size, name)
        assert tuple(picture[-1, -1]) == THEMES[name].panel
        assert near(picture, kept, 60).sum() > 500, name


def test_mp4_and_html_exports(client: TestClient) -> None:
    base = f"{BASE}&frames=3&size=320x180"
    mp4 = client.get(f"/api/export?{base}&format=mp4&theme=contrast")
    assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4"
    assert mp4.content[4:8] == b"ftyp"
    html = export(client, f"{base}&format=html&stats=true").decode()
    # the three frames in the player's list, and the first one shown at once
    assert len(re.findall(r"data:image/webp;base64,[A-Za-z0-9+/]{40}", html)) == 4
    assert "branches dropped" in html and "depth, mean over the batch" in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_the_command_line_gives_the_web_export(client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "residual.gif"
    result = subprocess.run(
        [str(BIN / "dropout-lab"), "render", "droppath", "--view", "residual",
         "--p", "0.4", "--mode", "batch", "--blocks", "6", "--batch", "5", "--seed", "3",
         "--start", "10", "--frames", "3", "--size", "320x180", "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        f"{BASE}&p=0.4&mode=batch&blocks=6&batch=5&seed=3&i=10&format=gif&frames=3&size=320x180",
    )
    assert out.read_bytes() == web


@pytest.mark.parametrize(
    ("query", "field"),
    [("blocks=0", "blocks"), ("batch=17", "batch"), ("rule=cosine", "rule"), ("p=2", "p")],
)
def test_bad_exports_name_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/export?{BASE}&format=gif&frames=2&{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
