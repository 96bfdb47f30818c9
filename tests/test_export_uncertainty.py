"""Exports of the uncertainty view (``/api/export?view=uncertainty…``, ``dropout-lab render``):
GIF, MP4 and standalone HTML of both tasks, frames that change from one iteration to the next
(each its own T passes), a comparison, both themes, and the command line's file equal to the
web's (a second process trains the same network: training is deterministic in its setting).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from exports import export, gif_frames
from fastapi.testclient import TestClient
from PIL import Image

from app.export import prepare
from app.render import THEMES, renderer_of
from app.render.uncertainty import BLUE
from app.state import parse_state
from dropouts.lab.views import BUILT

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
REGRESSION = "view=uncertainty&method=mc_dropout&seed=0&i=10"
CLASSIFICATION = "view=uncertainty&method=mc_dropout&task=classification&T=20&seed=0&i=10"


def changed(frames: list[np.ndarray], height: int) -> bool:
    """Consecutive frames differ above the caption bar (the drawing itself)."""
    top = [frame[: int(height * 0.6)] for frame in frames]
    return all(not np.array_equal(a, b) for a, b in itertools.pairwise(top))


@pytest.mark.parametrize("query", [REGRESSION, CLASSIFICATION], ids=["regression", "classes"])
def test_both_tasks_export_to_every_format(client: TestClient, query: str, tmp_path: Path) -> None:
    decoded = gif_frames(export(client, f"{query}&format=gif&frames=3&size=320x180"))
    assert len(decoded) == 3
    assert all(frame.shape == (180, 320, 3) for frame in decoded)
    assert changed(decoded, 180)  # each iteration draws its own passes

    path = tmp_path / "video.mp4"
    path.write_bytes(export(client, f"{query}&format=mp4&frames=3&size=240x136"))
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert meta["size"] == (240, 136)
    assert len(list(reader)) == 3

    page = export(client, f"{query}&format=html&frames=3&size=256x144").decode()
    meta_json = json.loads(re.search(r'id="meta">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    images = json.loads(re.search(r'id="images">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [frame["iteration"] for frame in meta_json["frames"]] == [10, 11, 12]
    assert len(images) == 3
    for url in images:
        picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert picture.format == "WEBP" and picture.size == (256, 144)


def test_a_comparison_exports_both_panels(client: TestClient) -> None:
    query = (
        "view=uncertainty&a.method=mc_dropout&b.method=mc_dropout&b.p=0.3&seed=0"
        "&format=gif&frames=2&size=400x200"
    )
    decoded = gif_frames(export(client, query))
    assert len(decoded) == 2
    for half in (slice(0, 200), slice(200, 400)):
        assert changed([frame[:, half] for frame in decoded], 200)
    response = client.get(f"/api/export?{query}")
    assert (
        'filename="dropout-lab-compare-uncertainty.gif"' in response.headers["content-disposition"]
    )


def _panel(query: str) -> tuple[Any, Any]:
    given = dict(item.split("=", 1) for item in query.split("&"))
    state = parse_state(given)
    [panel] = prepare(state, None)  # type: ignore[arg-type]
    view = BUILT[state.view]
    [frame] = view.frames(
        panel.method.id, panel.params, state.seed, range(3, 4), panel.scene, panel.theory
    )
    return panel, frame


@pytest.mark.parametrize("query", [REGRESSION, CLASSIFICATION], ids=["regression", "classes"])
def test_the_drawing_in_both_themes(query: str) -> None:
    panel, frame = _panel(query)
    size = (480, 270)
    for theme in THEMES.values():
        picture = np.asarray(renderer_of("uncertainty").render(panel, frame, size, theme))
        assert picture.shape == (270, 480, 3)
        assert tuple(picture[-1, -1]) == theme.paper  # a corner outside the drawing
        colours = {tuple(pixel) for pixel in picture.reshape(-1, 3)[::7]}
        assert len(colours) > 50  # passes, band, maps: not a blank panel
    if panel.theory_json["task"] == "regression":
        # The predictive mean is drawn in blue across the plot.
        light = np.asarray(renderer_of("uncertainty").render(panel, frame, size, THEMES["light"]))
        blue = np.all(np.abs(light.astype(int) - np.array(BLUE)) <= 12, axis=-1)
        columns = np.nonzero(blue.any(axis=0))[0]
        assert columns.size > 0.6 * size[0]


def test_the_cli_gives_the_web_exports_frames(client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "uncertainty.gif"
    result = subprocess.run(
        [str(BIN / "dropout-lab"), "render", "mc_dropout", "--view", "uncertainty", "--T", "20",
         "--seed", "3", "--start", "5", "--frames", "3", "--size", "200x112", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        "view=uncertainty&method=mc_dropout&T=20&seed=3&i=5&format=gif&frames=3&size=200x112",
    )
    assert out.read_bytes() == web


def test_bad_exports_name_the_field(client: TestClient) -> None:
    for query, field in (
        ("view=uncertainty&method=mc_dropout&p=1&format=gif", "p"),
        ("view=uncertainty&method=mc_dropout&task=ranking&format=gif", "task"),
        ("view=uncertainty&method=standard&format=gif", "view"),
    ):
        response = client.get(f"/api/export?{query}")
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
