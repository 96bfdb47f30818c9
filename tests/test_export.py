"""Exports: GIF, MP4 and standalone HTML over HTTP (``/api/export``, ``/api/export/events``),
from the command line (``dropout-lab render``), and the frames drawn as the page draws them.

Sizes and frame counts are kept small: every property here holds at any size.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from exports import export, gif_frames
from fastapi.testclient import TestClient
from PIL import Image

from app import cli
from app.config import Settings
from app.export import (
    ExportCancelledError,
    ExportOptions,
    option_names,
    parse_options,
    prepare,
    render_export,
)
from app.images import ImageStore
from app.render import THEMES, drawn_views, renderer_of
from app.render.feature_maps import map_bytes, training_maps
from app.render.image import picture_bytes, training_output
from app.render.theme import DROPPED_UNIT, SKY, VERMILION
from app.state import parse_state
from app.wire import encode_array
from dropouts.lab.views import BUILT
from dropouts.lab.views.base import ByteArray

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def mp4_frames(data: bytes, tmp_path: Path) -> tuple[dict[str, Any], list[np.ndarray]]:
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
    return meta, frames


def assert_error(response: Any, status: int, field: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, str] = response.json()["error"]
    assert set(error) == {"field", "message", "allowed"}
    assert error["field"] == field, error
    assert error["message"] and error["allowed"]
    return error


def changed(frames: list[np.ndarray], height: int) -> bool:
    """Whether consecutive frames differ above the caption bar (the panels themselves)."""
    top = [frame[: int(height * 0.6)] for frame in frames]
    return all(not np.array_equal(a, b) for a, b in itertools.pairwise(top))


# ---------------------------------------------------------------- GIF


@pytest.mark.parametrize(
    ("query", "frames", "size"),
    [
        ("view=image&method=standard&p=0.3", 5, (96, 80)),
        ("view=image&method=spatial&p=0.5", 3, (64, 64)),
        ("view=feature_maps&method=dropblock&p=0.3&block_size=5", 4, (200, 120)),
        ("view=pooling&method=maxpool&p=0.4&map=edge_90", 4, (128, 128)),
    ],
)
def test_gif_has_the_frames_and_size_asked_for_in_every_view(
    client: TestClient, query: str, frames: int, size: tuple[int, int]
) -> None:
    data = export(client, f"{query}&format=gif&frames={frames}&size={size[0]}x{size[1]}")
    decoded = gif_frames(data)
    assert len(decoded) == frames
    assert all(frame.shape == (size[1], size[0], 3) for frame in decoded)
    assert changed(decoded, size[1])
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 120  # 8 / s: 125 ms, in GIF's 1/100 s


def test_cutouts_hole_size_and_the_resolution_are_apart(client: TestClient) -> None:
    """Cutout's ``size`` is its hole; the frames' size is ``resolution`` (an older link's
    ``size=WxH`` still names it)."""
    query = "method=cutout&n_holes=1&seed=5&format=gif&frames=1&resolution=128x96"
    small, large = export(client, f"{query}&size=16"), export(client, f"{query}&size=96")
    (small_frame,), (large_frame,) = gif_frames(small), gif_frames(large)
    assert small_frame.shape == large_frame.shape == (96, 128, 3)
    assert not np.array_equal(small_frame, large_frame)
    assert export(client, f"{query}&size=96") == export(client, query)  # 96: the default
    legacy = export(client, "method=cutout&seed=5&format=gif&frames=1&size=128x96")
    assert gif_frames(legacy)[0].shape == (96, 128, 3)


def test_gif_of_more_than_one_loop_keeps_every_frame(client: TestClient) -> None:
    # 130 frames from i=90: iterations 90..99, 0..99, 0..19; even where two frames show the
    # same picture, none is merged with its neighbour.
    data = export(client, "method=cutout&size=40&i=90&format=gif&frames=130&size=64x64")
    decoded = gif_frames(data)
    assert len(decoded) == 130
    assert np.array_equal(decoded[10], decoded[110])  # both iteration 0
    assert not np.array_equal(decoded[9], decoded[10])


def test_gif_speed_follows_fps(client: TestClient) -> None:
    data = export(client, "method=standard&format=gif&frames=2&size=64x64&fps=2")
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.info["duration"] == 500


def test_exports_are_deterministic(client: TestClient) -> None:
    for format in ("gif", "html", "mp4"):
        query = f"method=gaussian&p=0.4&seed=3&i=7&format={format}&frames=3&size=96x64"
        first, second = export(client, query), export(client, query)
        assert first == second, format


def test_headers_name_the_file_and_allow_caching(client: TestClient) -> None:
    response = client.get("/api/export?method=dropblock&format=gif&frames=1&size=64x64")
    assert response.headers["content-type"] == "image/gif"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="dropout-lab-dropblock-image.gif"'
    assert "immutable" in response.headers["cache-control"]
    compared = client.get(
        "/api/export?view=feature_maps&a.method=standard&b.method=spatial&format=html&frames=1"
        "&size=128x96"
    )
    assert compared.headers["content-type"].startswith("text/html")
    assert (
        'filename="dropout-lab-compare-feature_maps.html"'
        in compared.headers["content-disposition"]
    )


@pytest.mark.parametrize("panels", [2, 3, 4])
def test_comparison_exports_every_panel(client: TestClient, panels: int) -> None:
    methods = ["standard", "dropblock", "cutout", "gaussian"][:panels]
    query = "&".join(f"{'abcd'[k]}.method={m}" for k, m in enumerate(methods))
    decoded = gif_frames(export(client, f"{query}&seed=2&format=gif&frames=3&size=320x180"))
    assert len(decoded) == 3
    assert all(frame.shape == (180, 320, 3) for frame in decoded)
    assert changed(decoded, 180)


# ---------------------------------------------------------------- MP4


def test_mp4_decodes_to_the_frames_and_size_asked_for(client: TestClient, tmp_path: Path) -> None:
    data = export(client, "view=feature_maps&method=standard&format=mp4&frames=6&size=160x96")
    meta, frames = mp4_frames(data, tmp_path)
    assert meta["codec"] == "h264"
    assert meta["size"] == (160, 96)
    assert meta["fps"] == 8
    assert len(frames) == 6
    assert changed(frames, 96)


def test_mp4_sides_round_down_to_even(client: TestClient, tmp_path: Path) -> None:
    data = export(client, "method=standard&format=mp4&frames=2&size=101x77&fps=5")
    meta, frames = mp4_frames(data, tmp_path)
    assert meta["size"] == (100, 76)
    assert len(frames) == 2


# ---------------------------------------------------------------- HTML


def test_html_is_one_file_that_asks_for_nothing(client: TestClient) -> None:
    page = export(client, "method=standard&format=html&frames=4&size=128x96&stats=true").decode()
    assert page.startswith("<!doctype html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # Every address in the file is data: (the papers' addresses are plain text).
    for attribute in re.findall(r"""\b(?:src|href|action|poster|data)\s*=\s*["']([^"']*)""", page):
        assert attribute.startswith("data:") or attribute.isdigit(), attribute
    assert "url(" not in page and "@import" not in page
    assert '<link rel="stylesheet"' not in page
    meta = json.loads(re.search(r'id="meta">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    images = json.loads(re.search(r'id="images">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [frame["iteration"] for frame in meta["frames"]] == [0, 1, 2, 3]
    assert len(images) == 4
    decoded = [Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) for url in images]
    assert all(picture.format == "WEBP" and picture.size == (128, 96) for picture in decoded)
    assert "<svg class='chart'" in page and "id='numbers'" in page  # statistics asked for
    assert "<math" in page and "jmlr.org/papers/v15/srivastava14a.html" in page


def test_html_holds_each_iteration_once_and_charts_only_when_asked(client: TestClient) -> None:
    page = export(client, "method=maxpool&format=html&frames=104&size=64x64").decode()
    images = json.loads(re.search(r'id="images">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    meta = json.loads(re.search(r'id="meta">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert len(images) == 100 and len(meta["frames"]) == 104
    assert meta["frames"][100]["image"] == meta["frames"][0]["image"]
    assert "<svg" not in page and "id='numbers'" not in page


def test_theme_contrast_is_white_on_black(client: TestClient) -> None:
    light = gif_frames(export(client, "method=standard&format=gif&frames=1&size=256x160"))[0]
    dark = gif_frames(
        export(client, "method=standard&format=gif&frames=1&size=256x160&theme=contrast")
    )[0]
    assert tuple(light[-2, -2]) != (0, 0, 0)
    assert tuple(dark[-2, -2]) == (0, 0, 0)  # the caption bar
    assert tuple(dark[1, 1]) == (0, 0, 0)  # the page around the picture
    bar = dark[-30:]
    assert (bar.max(axis=2) > 200).any()  # white type on it


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("method=standard", "format"),
        ("method=standard&format=webm", "format"),
        ("method=standard&format=gif&frames=0", "frames"),
        ("method=standard&format=gif&frames=201", "frames"),
        ("method=standard&format=gif&frames=many", "frames"),
        ("method=standard&format=gif&size=63x100", "size"),
        ("method=standard&format=gif&size=2000x100", "size"),
        ("method=standard&format=gif&size=big", "size"),
        ("method=standard&format=gif&fps=0", "fps"),
        ("method=standard&format=gif&fps=31", "fps"),
        ("method=standard&format=gif&theme=dark", "theme"),
        ("method=standard&format=html&stats=perhaps", "stats"),
        ("method=standard&format=gif&start=100", "start"),
        ("method=standard&format=gif&p=1.5", "p"),
        ("method=standard&format=gif&bogus=1", "bogus"),
        ("method=nothing&format=gif", "method"),
        ("view=pooling&method=standard&format=gif", "view"),
        ("a.method=standard&b.method=cutout&b.size=0&format=gif", "b.size"),
        ("method=standard&format=gif&frames=200&size=1920x1080", "frames"),
        ("method=standard&format=gif&image=nope", "image"),
    ],
)
def test_bad_exports_are_4xx_naming_the_field(client: TestClient, query: str, field: str) -> None:
    for path in ("/api/export", "/api/export/events"):
        response = client.get(f"{path}?{query}")
        assert_error(response, 404 if field == "image" else 422, field)
    assert client.get("/healthz").status_code == 200


def test_errors_say_the_range(client: TestClient) -> None:
    error = assert_error(client.get("/api/export?method=standard&format=gif&fps=99"), 422, "fps")
    assert error["allowed"] == "1 to 30"
    error = assert_error(client.get("/api/export?method=standard&format=gif&size=1x1"), 422, "size")
    assert "64 to 1920" in error["allowed"] and "64 to 1080" in error["allowed"]


# ---------------------------------------------------------------- Server-Sent Events


def sse(lines: Iterator[str]) -> list[tuple[str, dict[str, Any]]]:
    events, kind, data = [], None, []
    for line in lines:
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and kind is not None:
            events.append((kind, json.loads("".join(data))))
            kind, data = None, []
    return events


def test_events_stream_progress_in_order_then_the_file(client: TestClient) -> None:
    query = "method=dropblock&p=0.3&format=gif&frames=5&size=96x64"
    with client.stream("GET", f"/api/export/events?{query}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response.iter_lines())
    progress = [data for kind, data in events if kind == "progress"]
    assert progress == [{"done": done, "total": 5} for done in range(6)]
    assert [kind for kind, _ in events][-1] == "file"
    assert [kind for kind, _ in events].count("file") == 1
    file = events[-1][1]
    assert file["name"] == "dropout-lab-dropblock-image.gif"
    assert file["media_type"] == "image/gif"
    data = base64.b64decode(file["data"])
    assert file["size"] == len(data)
    assert data == export(client, query)


# ---------------------------------------------------------------- render_export itself


def _state(query: dict[str, str]) -> tuple[Any, ExportOptions, Any]:
    state = parse_state(query, ignore=option_names(query))
    return state, parse_options(query), ImageStore(Settings()).get(state.image).tensor


def test_progress_is_reported_per_frame_and_cancel_stops() -> None:
    state, options, picture = _state({"method": "standard", "format": "gif", "frames": "6",
                                      "size": "64x64"})  # fmt: skip
    calls: list[tuple[int, int]] = []
    render_export(state, options, picture, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(k, 6) for k in range(7)]
    calls.clear()
    with pytest.raises(ExportCancelledError):
        render_export(
            state, options, picture, progress=lambda d, t: calls.append((d, t)),
            cancelled=lambda: len(calls) > 2,
        )  # fmt: skip
    assert calls[-1] == (2, 6)


def test_mp4_cancel_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    state, options, picture = _state({"method": "standard", "format": "mp4", "frames": "4",
                                      "size": "64x64"})  # fmt: skip
    with pytest.raises(ExportCancelledError):
        render_export(state, options, picture, cancelled=iter([False, True]).__next__)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- drawn as the page draws


def _panel(query: dict[str, str]) -> tuple[Any, Any]:
    state, _, picture = _state({"format": "gif", **query})
    [panel] = prepare(state, picture)
    view = BUILT[state.view]
    [frame] = view.frames(panel.method.id, panel.params, state.seed, range(3, 4), panel.scene,
                          panel.theory)  # fmt: skip
    return panel, frame


def _page_factors(description: dict[str, Any], payload: bytes, units: int) -> np.ndarray:
    """A mask as static/js/api.js decodes it: the factor of each unit (float32)."""
    if description["encoding"] == "bits":
        bits = np.unpackbits(np.frombuffer(zlib.decompress(payload), np.uint8))[:units]
        return np.where(bits == 1, np.float32(description["value"]), np.float32(0))
    levels = np.frombuffer(zlib.decompress(payload), np.uint8)[:units]
    low, high, count = description["low"], description["high"], description["levels"]
    factors = np.array([low + k * (high - low) / (count - 1) for k in range(count)], np.float32)
    return factors[levels]


def _clamped(values: np.ndarray) -> np.ndarray:
    """Uint8ClampedArray's conversion: round half to even, clip to [0, 255]."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "query",
    [
        {"method": "standard", "p": "0.3"},
        {"method": "gaussian", "p": "0.5"},
        {"method": "dropblock", "p": "0.3", "block_size": "9"},
        {"method": "stochastic"},
    ],
)
def test_image_output_is_the_pages_product(query: dict[str, str]) -> None:
    panel, frame = _panel(query)
    source = picture_bytes(panel).astype(np.float64)
    height, width = source.shape[:2]
    description, payload = encode_array(frame.arrays["mask"])
    factors = _page_factors(description, payload, height * width).astype(np.float64)
    expected = _clamped(source * factors.reshape(height, width, 1))
    assert np.array_equal(training_output(panel, frame), expected)


def test_spatial_dropout_drops_a_colour_channel() -> None:
    for seed in range(40):
        panel, frame = _panel({"method": "spatial", "p": "0.5", "seed": str(seed)})
        values = frame.arrays["mask"].values
        if 0 < values.count(0.0) < 3:
            break
    output = training_output(panel, frame)
    source = picture_bytes(panel).astype(np.float64)
    for channel, factor in enumerate(values):
        assert np.array_equal(output[..., channel], _clamped(source[..., channel] * factor))
        assert (output[..., channel].max() == 0) == (factor == 0)


def test_feature_maps_are_the_pages_grey_with_dropped_units_in_blue() -> None:
    panel, frame = _panel({"view": "feature_maps", "method": "standard", "p": "0.4"})
    description, payload = encode_array(ByteArray(panel.scene.data))
    maps = np.frombuffer(zlib.decompress(payload), np.uint8).reshape(description["shape"])
    assert np.array_equal(map_bytes(panel), maps)
    drawn, whole = training_maps(panel, frame)
    mask = frame.arrays["mask"].tensor.numpy()
    dropped = mask == 0
    assert dropped.any() and (~dropped).any()
    assert (drawn[dropped] == DROPPED_UNIT).all()
    kept_grey = _clamped(maps.astype(np.float64) * np.float32(mask[~dropped][0]))
    assert np.array_equal(drawn[..., 0][~dropped], kept_grey[~dropped])
    assert whole == [None] * 8


def test_pooling_marks_winners_and_windows_with_no_unit_left() -> None:
    theme = THEMES["light"]
    size = (24 * 24, 24 * 24)  # cells of 24 px, the page's own size
    kept, _ = _panel({"view": "pooling", "method": "maxpool", "p": "0"})
    picture = np.asarray(renderer_of("pooling").render(kept, _, size, theme))
    theory = kept.theory
    k = theory.kernel
    for window in (0, 17, 100):
        unit = theory.order[window][0]
        row = (window // theory.columns) * k + unit // k
        column = (window % theory.columns) * k + unit % k
        assert tuple(picture[row * 24 + 12, column * 24 + 12]) == SKY  # the winner's dot
    gone, frame = _panel({"view": "pooling", "method": "maxpool", "p": "1"})
    picture = np.asarray(renderer_of("pooling").render(gone, frame, size, theme))
    assert (np.asarray(frame.stats["winners"]) == -1).all()
    # Every window crossed out: its diagonals are vermilion.
    assert tuple(picture[24, 24]) == VERMILION
    assert SKY not in {tuple(p) for p in picture.reshape(-1, 3)[::97]}


# ---------------------------------------------------------------- the command line


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=cwd or ROOT)


def test_cli_gives_the_web_exports_frames(client: TestClient, tmp_path: Path) -> None:
    script = BIN / "dropout-lab"
    assert script.exists(), "the console script is installed with the package"
    gif, mp4, html = tmp_path / "a.gif", tmp_path / "a.mp4", tmp_path / "a.html"
    common = ["--seed", "5", "--start", "90", "--frames", "12", "--size", "160x96"]
    result = run(str(script), "render", "dropblock", "--p", "0.3", "--block_size", "15",
                 *common, "--out", str(gif))  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        "method=dropblock&p=0.3&block_size=15&seed=5&i=90&format=gif&frames=12&size=160x96",
    )
    cli_frames, web_frames = gif_frames(gif.read_bytes()), gif_frames(web)
    assert len(cli_frames) == len(web_frames) == 12
    assert all(np.array_equal(a, b) for a, b in zip(cli_frames, web_frames, strict=True))
    assert gif.read_bytes() == web

    result = run(sys.executable, "-m", "app.cli", "render", "maxpool", "--view", "pooling",
                 "--map", "edge_45", *common, "--fps", "4", "--out", str(mp4))  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        "view=pooling&method=maxpool&map=edge_45&seed=5&i=90&format=mp4&frames=12&size=160x96"
        "&fps=4",
    )
    (cli_meta, cli_video), (web_meta, web_video) = (
        mp4_frames(mp4.read_bytes(), tmp_path),
        mp4_frames(web, tmp_path),
    )
    assert cli_meta["size"] == web_meta["size"] == (160, 96)
    assert len(cli_video) == len(web_video) == 12
    assert mp4.read_bytes() == web  # libx264 on one thread, bit-exact: the same bytes

    result = run(str(script), "render", "standard", "--b.method", "cutout", "--b.size", "64",
                 "--theme", "contrast", "--stats", *common, "--out", str(html))  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        "a.method=standard&b.method=cutout&b.size=64&theme=contrast&stats=true&seed=5&i=90"
        "&format=html&frames=12&size=160x96",
    )
    assert html.read_bytes() == web


def test_cli_takes_a_picture_as_an_upload_does(client: TestClient, tmp_path: Path) -> None:
    x = np.linspace(0, 255, 300)[None, :, None]
    y = np.linspace(0, 255, 200)[:, None, None]
    picture = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    path = tmp_path / "mine.png"
    Image.fromarray(picture).save(path)
    uploaded = client.post("/api/images", files={"file": ("mine.png", path.read_bytes())})
    assert uploaded.status_code == 201
    out = tmp_path / "mine.gif"
    result = run(str(BIN / "dropout-lab"), "render", "cutout", "--image", str(path),
                 "--frames", "3", "--size", "128x96", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    image_id = uploaded.json()["id"]
    web = export(client, f"method=cutout&image={image_id}&format=gif&frames=3&size=128x96")
    assert out.read_bytes() == web


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["standard", "--p", "2"], "--p"),
        (["standard", "--frames", "0"], "--frames"),
        (["standard", "--size", "10x10"], "--size"),
        (["standard", "--fps", "60"], "--fps"),
        (["standard", "--theme", "sepia"], "--theme"),
        (["standard", "--start", "100"], "--start"),
        (["standard", "--wobble", "1"], "--wobble"),
        (["standard", "--b.method", "nothing"], "--b.method"),
        (["unknown"], "METHOD"),
        (["standard", "--image", "/no/such/picture.png"], "--image"),
        (["standard", "--frames", "200", "--size", "1920x1080"], "--frames"),
    ],
)
def test_cli_errors_name_the_option(
    args: list[str], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["render", *args, "--out", str(tmp_path / "x.gif")]) == 2
    stderr = capsys.readouterr().err
    assert f"error: {field}:" in stderr, stderr
    assert "allowed" in stderr
    assert not (tmp_path / "x.gif").exists()


def test_cli_errors_exit_with_status_2(tmp_path: Path) -> None:
    for out in ("x.gif", "x.avi"):
        result = run(str(BIN / "dropout-lab"), "render", "standard", "--p", "2", "--out",
                     str(tmp_path / out))  # fmt: skip
        assert result.returncode == 2
        assert ("--p" if out == "x.gif" else "--out") in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the dense view

# Each dense method at a setting where two iterations in a row draw different sub-networks
# (AlphaDropout's default p = 0.1 keeps all ten neurons a third of the time).
DENSE_METHODS = {
    "standard": "",
    "gaussian": "",
    "alpha": "&p=0.5",
    "dropconnect": "",
    "standout": "",
}


def _html_images(page: str) -> tuple[dict[str, Any], list[Image.Image]]:
    meta = json.loads(re.search(r'id="meta">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    images = json.loads(re.search(r'id="images">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    decoded = [Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) for url in images]
    return meta, decoded


@pytest.mark.parametrize("method", DENSE_METHODS)
def test_dense_view_exports_to_every_format(
    client: TestClient, method: str, tmp_path: Path
) -> None:
    query = f"view=dense&method={method}{DENSE_METHODS[method]}&seed=1&i=10"
    decoded = gif_frames(export(client, f"{query}&format=gif&frames=4&size=200x120"))
    assert len(decoded) == 4
    assert all(frame.shape == (120, 200, 3) for frame in decoded)
    assert changed(decoded, 120)

    meta, video = mp4_frames(export(client, f"{query}&format=mp4&frames=3&size=160x96"), tmp_path)
    assert meta["size"] == (160, 96)
    assert len(video) == 3
    assert changed(video, 96)

    page = export(client, f"{query}&format=html&frames=3&size=128x96").decode()
    html_meta, images = _html_images(page)
    assert [frame["iteration"] for frame in html_meta["frames"]] == [10, 11, 12]
    assert len(images) == 3
    assert all(picture.format == "WEBP" and picture.size == (128, 96) for picture in images)
    pictures = [np.asarray(picture.convert("RGB")) for picture in images]
    assert changed(pictures, 96)


def test_dense_comparison_exports_both_panels(client: TestClient) -> None:
    query = "a.method=standard&b.method=dropconnect&view=dense&seed=2&format=gif&frames=3"
    data = export(client, f"{query}&size=320x180")
    decoded = gif_frames(data)
    assert len(decoded) == 3
    assert all(frame.shape == (180, 320, 3) for frame in decoded)
    assert changed(decoded, 180)
    # Each half of the frame changes: both panels are drawn, each with its own masks.
    for half in (slice(0, 160), slice(160, 320)):
        assert changed([frame[:, half] for frame in decoded], 180)
    response = client.get(f"/api/export?{query}&size=320x180")
    assert 'filename="dropout-lab-compare-dense.gif"' in response.headers["content-disposition"]


def test_dense_marks_the_dropped_neurons_in_both_themes() -> None:
    from app.render.dense import layout

    panel, frame = _panel({"view": "dense", "method": "standard", "p": "0.5", "seed": "4"})
    size = (520, 300)
    plan = layout("standard", panel.theory_json["network"]["shown"], size)
    masks = [layer["mask"] for layer in frame.arrays["pass"].value["layers"]]
    seen = set()
    for theme in THEMES.values():
        picture = np.asarray(renderer_of("dense").render(panel, frame, size, theme))
        assert picture.shape == (300, 520, 3)
        assert tuple(picture[-1, 0]) == theme.paper  # under the legend, beside it
        for layer, spots in zip(masks, plan.spots, strict=True):
            for k, (x, y) in enumerate(spots):
                centre = tuple(picture[round(y), round(x)])
                dropped = layer is not None and layer[k] == 0
                assert (centre == VERMILION) == dropped, (layer, k)
                seen.add(dropped)
    assert seen == {True, False}


def test_cli_gives_the_web_exports_dense_frames(client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "dense.gif"
    result = run(str(BIN / "dropout-lab"), "render", "dropconnect", "--view", "dense",
                 "--p", "0.3", "--width", "6", "--seed", "5", "--start", "90", "--frames", "6",
                 "--size", "160x96", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    web = export(
        client,
        "view=dense&method=dropconnect&p=0.3&width=6&seed=5&i=90&format=gif&frames=6&size=160x96",
    )
    cli_frames, web_frames = gif_frames(out.read_bytes()), gif_frames(web)
    assert len(cli_frames) == len(web_frames) == 6
    assert all(np.array_equal(a, b) for a, b in zip(cli_frames, web_frames, strict=True))
    assert out.read_bytes() == web


def test_a_view_without_a_renderer_is_a_422_on_view(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    drawn = drawn_views()
    # As if app/render/dense/ were not there: no module, so no renderer for the dense view.
    monkeypatch.setitem(sys.modules, "app.render.dense", None)
    assert renderer_of("dense") is None and drawn_views() == tuple(v for v in drawn if v != "dense")
    query = "view=dense&method=standard&format=gif&frames=2"
    error = assert_error(client.get(f"/api/export?{query}"), 422, "view")
    assert "no export for this view yet" in error["message"]
    assert "dense" not in error["allowed"]
    assert error["allowed"] == ", ".join(v for v in drawn if v != "dense")
    # The progress stream refuses it before it starts, with the same plain 422.
    assert_error(client.get(f"/api/export/events?{query}"), 422, "view")
    out = tmp_path / "x.gif"
    assert cli.main(["render", "standard", "--view", "dense", "--out", str(out)]) == 2
    assert "error: --view: no export for this view yet" in capsys.readouterr().err
    assert not out.exists()
    assert client.get("/healthz").status_code == 200
