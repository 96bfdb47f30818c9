"""The HTTP API, end to end through FastAPI's TestClient: every endpoint, success and error.

Errors must be 4xx JSON ``{"error": {"field", "message", "allowed"}}``, never a 500, and the
app must keep answering after a hostile request.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.main import create_app
from app.routes.pages import PLOTLY_JS
from dropouts.lab.registry import METHODS, get_method, validate_params
from dropouts.lab.views.image import IMAGE_METHODS, image_frame, image_theory

MATHML = "{http://www.w3.org/1998/Math/MathML}"
UPLOAD_ID = re.compile(r"^u[0-9a-f]{24}$")
FRAMES_TYPE = "application/x-dropout-frames"


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    app = create_app(Settings(upload_dir=tmp_path, **settings))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("uploads")) as test_client:
        yield test_client


def encoded(picture: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture with content (so that every encoder has something to encode)."""
    x = np.linspace(0, 255, width, dtype=np.float64)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB").convert(mode)


def upload(client: TestClient, data: bytes, name: str = "picture.png") -> Any:
    return client.post("/api/images", files={"file": (name, data, "application/octet-stream")})


def assert_error(response: Any, status: int, field: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"field", "message", "allowed"}
    assert error["field"] == field, error
    assert error["message"]
    return error


def assert_alive(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/api/frames?method=standard&image=cat").status_code == 200


# ---------------------------------------------------------------- frames: parsing


def parse_frames(body: bytes) -> tuple[dict[str, Any], bytes]:
    """The DLF1 container: magic, little-endian uint32 header length, JSON header, payloads."""
    assert body[:4] == b"DLF1"
    (length,) = struct.unpack("<I", body[4:8])
    header = json.loads(body[8 : 8 + length].decode("utf-8"))
    data = body[8 + length :]
    offset = 0
    for frame in header["frames"]:
        mask = frame.get("mask", {})
        if "offset" in mask:
            assert mask["offset"] == offset, "payloads are contiguous and in frame order"
            offset += mask["length"]
    assert offset == len(data), "the payloads fill the rest of the body exactly"
    return header, data


def payload_of(frame: dict[str, Any], data: bytes) -> bytes:
    mask = frame["mask"]
    return data[mask["offset"] : mask["offset"] + mask["length"]] if "offset" in mask else b""


def decode_mask(header: dict[str, Any], frame: dict[str, Any], data: bytes) -> np.ndarray:
    mask = frame["mask"]
    height, width = header["height"], header["width"]
    if mask["encoding"] == "values":
        return np.asarray(mask["values"], dtype=np.float32)
    raw = np.frombuffer(zlib.decompress(payload_of(frame, data)), dtype=np.uint8)
    if mask["encoding"] == "bits":
        bits = np.unpackbits(raw)[: height * width].reshape(height, width)
        return bits.astype(np.float32) * np.float32(mask["value"])
    assert mask["encoding"] == "levels"
    low, high, count = mask["low"], mask["high"], mask["levels"]
    return (low + raw.astype(np.float64) * (high - low) / (count - 1)).reshape(height, width)


def get_frames(client: TestClient, query: str) -> tuple[dict[str, Any], bytes]:
    response = client.get(f"/api/frames?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FRAMES_TYPE
    return parse_frames(response.content)


# ---------------------------------------------------------------- /api/methods


def test_methods_lists_every_registry_method_with_ranges_and_mathml(client: TestClient) -> None:
    response = client.get("/api/methods")
    assert response.status_code == 200
    catalog = response.json()
    assert [m["id"] for m in catalog["methods"]] == [m.id for m in METHODS]
    assert catalog["seed"]["min"] == 0 and catalog["seed"]["max"] == 2**31 - 1
    assert {family["id"] for family in catalog["families"]} == {m.family for m in METHODS}
    for shown, method in zip(catalog["methods"], METHODS, strict=True):
        assert shown["name"] == method.name
        assert shown["papers"] and all(
            paper["url"].startswith("https://") for paper in shown["papers"]
        )
        assert shown["image_view"] is (method.id in IMAGE_METHODS)
        assert shown["image_view"] is ("image" in method.views)
        root = ET.fromstring(shown["formula_mathml"])
        assert root.tag == f"{MATHML}math"
        assert len(list(root.iter())) > 3
        assert [p["name"] for p in shown["params"]] == [p.name for p in method.params]
        for param, registered in zip(shown["params"], method.params, strict=True):
            assert param["default"] == registered.default
            assert param["kind"] == registered.kind
            if param["kind"] in ("float", "int"):
                assert param["min"] is not None and param["max"] is not None
                assert param["min"] < param["max"]
                assert param["min"] == registered.min and param["max"] == registered.max
                if param["default"] is not None:
                    assert param["min"] <= param["default"] <= param["max"]
            if param["kind"] == "choice":
                assert param["choices"] == list(registered.choices)
                assert param["default"] in param["choices"]


# ---------------------------------------------------------------- /api/images


def test_images_lists_the_three_samples_at_most_512(client: TestClient) -> None:
    response = client.get("/api/images")
    assert response.status_code == 200
    samples = response.json()
    assert [s["id"] for s in samples] == ["cat", "astronaut", "coffee"]
    for sample in samples:
        assert 0 < sample["width"] <= 512 and 0 < sample["height"] <= 512
        assert sample["title"] and sample["credit"]
        assert sample["url"] == f"/api/images/{sample['id']}"
    sizes = {s["id"]: (s["width"], s["height"]) for s in samples}
    assert sizes["astronaut"] == (512, 512)
    assert sizes["cat"] == (451, 300)  # smaller than 512: left as it is
    assert sizes["coffee"] == (512, 341)  # 600 x 400, resized to a 512 long side


@pytest.mark.parametrize("image_id", ["cat", "astronaut", "coffee"])
def test_image_is_an_immutable_png(client: TestClient, image_id: str) -> None:
    response = client.get(f"/api/images/{image_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    cache = response.headers["cache-control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "public" in cache
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.mode == "RGB"
        assert max(picture.size) <= 512


@pytest.mark.parametrize("image_id", ["dog", "u" + "0" * 24, "U" + "a" * 24, "u" + "g" * 24])
def test_unknown_image_is_a_404_naming_the_image(client: TestClient, image_id: str) -> None:
    error = assert_error(client.get(f"/api/images/{image_id}"), 404, "image")
    assert "cat" in error["allowed"]


def test_an_image_path_outside_the_store_is_a_404(client: TestClient) -> None:
    response = client.get("/api/images/..%2F..%2Fapp%2Fconfig.py")
    assert response.status_code == 404
    assert response.json()["error"]["field"] in ("image", "request")


# ---------------------------------------------------------------- POST /api/images


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_upload_accepts_the_five_formats(client: TestClient, image_format: str) -> None:
    data = encoded(gradient(600, 300), image_format)
    response = upload(client, data, f"picture.{image_format.lower()}")
    assert response.status_code == 201, response.text
    shown = response.json()
    assert shown["id"] == "u" + hashlib.sha256(data).hexdigest()[:24]
    assert UPLOAD_ID.match(shown["id"])
    assert (shown["width"], shown["height"]) == (512, 256)
    assert shown["url"] == f"/api/images/{shown['id']}"
    png = client.get(shown["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        assert picture.size == (512, 256)


def test_a_camera_mpo_jpeg_is_accepted_and_its_first_picture_used(client: TestClient) -> None:
    """Many phones and cameras write MPO (multi-picture JPEG); Pillow reads it as "MPO"."""
    first, second = gradient(300, 200), Image.new("RGB", (300, 200), (0, 0, 255))
    buffer = io.BytesIO()
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(buffer.getvalue())) as opened:
        assert opened.format == "MPO"
    response = upload(client, buffer.getvalue(), "camera.jpg")
    assert response.status_code == 201, response.text
    with Image.open(io.BytesIO(client.get(response.json()["url"]).content)) as stored:
        red, _, blue = stored.getpixel((290, 100))
    assert red > 200 and blue < 200  # the gradient, not the blue second picture


def test_an_unreadable_upload_says_why_in_words(client: TestClient) -> None:
    not_image = assert_error(upload(client, b"hello" * 100), 422, "file")
    assert not_image["message"] == "not a readable image: not an image file"
    cut = assert_error(upload(client, png_bytes()[:200]), 422, "file")
    assert "Error" not in cut["message"]


def test_same_bytes_give_the_same_id_and_other_bytes_another(client: TestClient) -> None:
    data = encoded(gradient(64, 48), "PNG")
    first, second = upload(client, data), upload(client, data)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = upload(client, encoded(gradient(64, 49), "PNG"))
    assert other.json()["id"] != first.json()["id"]


def test_exif_orientation_6_is_applied(client: TestClient) -> None:
    # Stored 400 x 200: left half red, right half blue. Orientation 6 means "rotate 90 degrees
    # clockwise to display", so the displayed picture is 200 x 400, red on top, blue below.
    stored = Image.new("RGB", (400, 200), (230, 20, 20))
    stored.paste((20, 20, 230), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    response = upload(client, encoded(stored, "JPEG", exif=exif.tobytes(), quality=95), "r.jpg")
    assert response.status_code == 201, response.text
    shown = response.json()
    assert (shown["width"], shown["height"]) == (200, 400)
    with Image.open(io.BytesIO(client.get(shown["url"]).content)) as picture:
        top, bottom = picture.getpixel((100, 50)), picture.getpixel((100, 350))
    assert top[0] > 180 and top[2] < 80
    assert bottom[2] > 180 and bottom[0] < 80


@pytest.mark.parametrize(
    ("size", "expected"),
    [((2000, 1000), (512, 256)), ((300, 1200), (128, 512)), ((100, 50), (100, 50))],
)
def test_upload_long_side_is_resized_to_512(
    client: TestClient, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    response = upload(client, encoded(gradient(*size), "PNG"))
    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == expected


def test_transparency_is_composited_on_white(client: TestClient) -> None:
    picture = Image.new("RGBA", (20, 10), (255, 0, 0, 0))  # transparent red
    picture.paste((0, 0, 0, 255), (10, 0, 20, 10))  # opaque black on the right
    response = upload(client, encoded(picture, "PNG"))
    assert response.status_code == 201
    with Image.open(io.BytesIO(client.get(response.json()["url"]).content)) as stored:
        assert stored.mode == "RGB"
        assert stored.getpixel((2, 5)) == (255, 255, 255)
        assert stored.getpixel((15, 5)) == (0, 0, 0)
    half = Image.new("LA", (4, 4), (0, 128))  # half-transparent black: mid grey
    response = upload(client, encoded(half, "PNG"))
    with Image.open(io.BytesIO(client.get(response.json()["url"]).content)) as stored:
        assert all(abs(channel - 127) <= 1 for channel in stored.getpixel((1, 1)))


def test_a_16_bit_grey_png_keeps_its_tones(client: TestClient) -> None:
    ramp = np.linspace(0, 65535, 256)[None, :].repeat(8, axis=0).astype(np.uint16)
    picture = Image.fromarray(ramp)
    assert picture.mode == "I;16"
    response = upload(client, encoded(picture, "PNG"))
    assert response.status_code == 201
    with Image.open(io.BytesIO(client.get(response.json()["url"]).content)) as stored:
        row = [stored.getpixel((x, 4))[0] for x in (0, 64, 128, 192, 255)]
    assert row == pytest.approx([0, 64, 128, 192, 255], abs=2)


def test_an_upload_is_usable_in_frames_and_by_another_worker(
    client: TestClient, tmp_path: Path
) -> None:
    worker = make_client(tmp_path)
    data = encoded(gradient(90, 70), "PNG")
    shown = upload(worker, data).json()
    header, data_bytes = get_frames(worker, f"method=cutout&size=20&image={shown['id']}&count=2")
    assert header["image"] == shown["id"]
    assert (header["width"], header["height"]) == (90, 70)
    assert decode_mask(header, header["frames"][0], data_bytes).shape == (70, 90)
    # A second app on the same upload directory (another worker, or a restart) serves it too.
    other = make_client(tmp_path)
    assert other.get(shown["url"]).content == worker.get(shown["url"]).content
    again, again_bytes = get_frames(other, f"method=cutout&size=20&image={shown['id']}&count=2")
    assert again == header and again_bytes == data_bytes


def test_concurrent_uploads_of_the_same_file_all_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs (or a double click) sending the same picture at once must both get its id.

    If every copy went through the same ``<id>.tmp`` path, the second rename would find no file
    and that request would fail with a 500. A slow disk (50 ms between a write and the rename,
    simulated) makes the overlap certain instead of likely.
    """
    write_bytes = Path.write_bytes

    def slow_write_bytes(path: Path, data: bytes) -> int:  # type: ignore[override]
        written = write_bytes(path, data)
        time.sleep(0.05)  # the write returns, the rename comes 50 ms later
        return written

    monkeypatch.setattr(Path, "write_bytes", slow_write_bytes)
    data = encoded(gradient(64, 64), "PNG")
    for trial in range(3):
        worker = make_client(tmp_path / str(trial))
        barrier = threading.Barrier(4)

        def send(_: int, worker: TestClient = worker, barrier: threading.Barrier = barrier) -> Any:
            barrier.wait()
            return upload(worker, data)

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(send, range(4)))
        assert [r.status_code for r in responses] == [201] * 4, responses[-1].text
        assert len({r.json()["id"] for r in responses}) == 1
        assert_alive(worker)


def crafted_png(width: int, height: int) -> bytes:
    """A 57-byte PNG whose IHDR declares ``width x height`` RGB pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pillow_bomb() -> bytes:
    """A 1-bit 20000 x 20000 PNG: 400 M pixels in about 50 KB."""
    return encoded(Image.new("1", (20000, 20000)), "PNG", compress_level=9)


def png_bytes() -> bytes:
    return encoded(gradient(200, 100), "PNG")


def jpeg_bytes() -> bytes:
    return encoded(gradient(200, 100), "JPEG")


# Built inside the test, not at collection: the Pillow bomb takes about a second to write.
HOSTILE: dict[str, tuple[Callable[[], bytes], int]] = {
    "empty": (lambda: b"", 422),
    "text": (lambda: b"just some text, not a picture\n" * 10, 422),
    "truncated-png": (lambda: png_bytes()[: len(png_bytes()) // 2], 422),
    "png-signature-and-part-of-ihdr": (lambda: png_bytes()[:30], 422),
    "truncated-jpeg": (lambda: jpeg_bytes()[: len(jpeg_bytes()) // 3], 422),
    "crafted-ihdr-20000x20000": (lambda: crafted_png(20000, 20000), 413),
    "pillow-1-bit-bomb-20000x20000": (pillow_bomb, 413),
    "tiff": (lambda: encoded(gradient(40, 30), "TIFF"), 415),
    "ico": (lambda: encoded(gradient(16, 16), "ICO"), 415),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_uploads_are_refused_with_4xx_json(client: TestClient, name: str) -> None:
    build, status = HOSTILE[name]
    data = build()
    if name.endswith("20000x20000"):
        assert len(data) < 100_000
    error = assert_error(upload(client, data), status, "file")
    assert error["allowed"]
    assert_alive(client)


def test_a_file_over_the_upload_limit_is_refused(tmp_path: Path) -> None:
    data = encoded(gradient(120, 80), "PNG")
    at_limit = make_client(tmp_path, max_upload_bytes=len(data))
    assert upload(at_limit, data).status_code == 201
    small = make_client(tmp_path, max_upload_bytes=len(data) - 1)
    error = assert_error(upload(small, data), 413, "file")
    assert error["allowed"]
    too_big = make_client(tmp_path, max_upload_bytes=100_000)
    assert_error(upload(too_big, b"\0" * 300_000), 413, "file")
    assert_alive(too_big)


def test_a_picture_with_too_many_pixels_is_refused(tmp_path: Path) -> None:
    strict = make_client(tmp_path, max_source_pixels=10_000)
    error = assert_error(upload(strict, encoded(gradient(200, 100), "PNG")), 413, "file")
    assert "10,000" in error["allowed"]
    small = upload(strict, encoded(gradient(100, 100), "PNG"))
    assert small.status_code == 201
    assert strict.get("/healthz").status_code == 200
    frames = strict.get(f"/api/frames?method=standard&image={small.json()['id']}")
    assert frames.status_code == 200


def test_upload_without_a_file_names_the_field(client: TestClient) -> None:
    error = assert_error(client.post("/api/images"), 422, "file")
    assert error["allowed"]
    files = {"picture": ("a.png", b"abc", "image/png")}
    assert_error(client.post("/api/images", files=files), 422, "file")


# ---------------------------------------------------------------- /api/frames


@pytest.mark.parametrize("method_id", IMAGE_METHODS)
def test_frames_binary_format_carries_the_masks(client: TestClient, method_id: str) -> None:
    response = client.get(f"/api/frames?method={method_id}&image=cat&seed=3&start=5&count=3")
    assert response.status_code == 200
    assert response.headers["content-type"] == FRAMES_TYPE
    assert "immutable" in response.headers["cache-control"]
    assert "content-encoding" not in response.headers  # already deflated: no gzip on top
    header, data = parse_frames(response.content)
    method = get_method(method_id)
    params = validate_params(method, {})
    assert header["method"] == method_id and header["image"] == "cat" and header["seed"] == 3
    assert (header["width"], header["height"]) == (451, 300)
    assert header["params"] == params
    theory = image_theory(method_id, params, 300, 451)
    assert header["theory"]["unit"] == theory.unit
    assert header["theory"]["expected_dropped_fraction"] == pytest.approx(
        theory.expected_dropped_fraction
    )
    assert len(header["theory"]["histogram_edges"]) == len(header["frames"][0]["histogram"]) + 1
    assert [f["iteration"] for f in header["frames"]] == [5, 6, 7]
    # The masks are exactly those the library computes for (method, params, seed, iteration).
    picture = client.app.state.images.get("cat").tensor  # type: ignore[attr-defined]
    for frame in header["frames"]:
        expected = image_frame(method_id, picture, params, 3, frame["iteration"], theory)
        decoded = decode_mask(header, frame, data)
        reference = expected.mask.numpy().reshape(decoded.shape)
        if frame["mask"]["encoding"] == "levels":
            step = (frame["mask"]["high"] - frame["mask"]["low"]) / (frame["mask"]["levels"] - 1)
            inside = (reference >= frame["mask"]["low"]) & (reference <= frame["mask"]["high"])
            assert np.abs(decoded - reference)[inside].max() <= step / 2 + 1e-6
        else:
            np.testing.assert_array_equal(decoded, reference)
        assert frame["dropped_fraction"] == pytest.approx(expected.dropped_fraction)
        assert frame["mask_mean"] == pytest.approx(expected.mask_mean)
        assert frame["histogram"] == list(expected.histogram)
        assert sum(frame["histogram"]) == (3 if theory.unit == "channel" else 300 * 451)
        assert (frame["p_t"] is not None) == (method_id == "stochastic")


@pytest.mark.parametrize("method_id", IMAGE_METHODS)
def test_json_format_is_the_binary_with_inline_base64(client: TestClient, method_id: str) -> None:
    query = f"method={method_id}&image=cat&seed=1&count=4"
    header, data = get_frames(client, query)
    response = client.get(f"/api/frames?{query}&format=json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    inline = response.json()
    assert {k: v for k, v in inline.items() if k != "frames"} == {
        k: v for k, v in header.items() if k != "frames"
    }
    for binary_frame, json_frame in zip(header["frames"], inline["frames"], strict=True):
        binary_mask, json_mask = binary_frame.pop("mask"), json_frame.pop("mask")
        assert json_frame == binary_frame  # the same statistics
        payload = payload_of({"mask": binary_mask}, data)
        assert base64.b64decode(json_mask.pop("data", "")) == payload
        binary_mask.pop("offset", None)
        binary_mask.pop("length", None)
        assert json_mask == binary_mask


def test_statistics_only_without_masks(client: TestClient) -> None:
    header, _ = get_frames(client, "method=standard&p=0.3&count=10")
    response = client.get("/api/frames?method=standard&p=0.3&count=10&masks=false")
    assert response.status_code == 200
    stats, nothing = parse_frames(response.content)
    assert nothing == b""
    assert len(response.content) == 8 + struct.unpack("<I", response.content[4:8])[0]
    for with_mask, without in zip(header["frames"], stats["frames"], strict=True):
        assert "mask" not in without
        with_mask.pop("mask")
        assert without == with_mask
    many = client.get("/api/frames?method=standard&count=512&masks=false&format=json")
    assert many.status_code == 200
    assert [f["iteration"] for f in many.json()["frames"]] == list(range(512))


def test_frames_are_deterministic_and_addressable(client: TestClient) -> None:
    query = "method=dropblock&image=cat&seed=7&start=0&count=8"
    first, second = client.get(f"/api/frames?{query}"), client.get(f"/api/frames?{query}")
    assert first.content == second.content  # byte-identical
    header, data = parse_frames(first.content)
    other, other_data = get_frames(client, query.replace("seed=7", "seed=8"))
    for mine, theirs in zip(header["frames"], other["frames"], strict=True):
        assert payload_of(mine, data) != payload_of(theirs, other_data)
    payloads = [payload_of(frame, data) for frame in header["frames"]]
    assert len(set(payloads)) == len(payloads)  # every iteration is a new mask
    for iteration in (0, 5, 7):
        alone, alone_data = get_frames(
            client, query.replace("start=0&count=8", f"start={iteration}&count=1")
        )
        (frame,) = alone["frames"]
        assert payload_of(frame, alone_data) == payloads[iteration]
        in_range = dict(header["frames"][iteration])
        frame["mask"].pop("offset")
        in_range["mask"] = {k: v for k, v in in_range["mask"].items() if k != "offset"}
        assert frame == in_range


FRAME_ERRORS = [
    ("", 422, "method"),
    ("method=nope", 422, "method"),
    ("method=dropconnect", 422, "method"),
    ("method=alpha", 422, "method"),
    ("method=standard&p=1.5", 422, "p"),
    ("method=standard&p=-0.1", 422, "p"),
    ("method=standard&p=abc", 422, "p"),
    ("method=standard&p=nan", 422, "p"),
    ("method=standard&p=inf", 422, "p"),
    ("method=standard&p=", 422, "p"),
    ("method=gaussian&p=0.99", 422, "p"),
    ("method=standard&pp=0.3", 422, "pp"),
    ("method=standard&scaling=sideways", 422, "scaling"),
    ("method=cutout&size=1.5", 422, "size"),
    ("method=cutout&n_holes=21", 422, "n_holes"),
    ("method=dropblock&block_size=0", 422, "block_size"),
    ("method=stochastic&sigma=0.6", 422, "sigma"),
    ("method=standard&count=65", 422, "count"),
    ("method=standard&count=0", 422, "count"),
    ("method=standard&count=many", 422, "count"),
    ("method=standard&count=513&masks=false", 422, "count"),
    ("method=standard&seed=-1", 422, "seed"),
    ("method=standard&seed=2147483648", 422, "seed"),
    ("method=standard&start=-1", 422, "start"),
    ("method=standard&start=1000000", 422, "start"),
    ("method=standard&start=999990&count=20", 422, "start"),
    ("method=standard&format=xml", 422, "format"),
    ("method=standard&masks=perhaps", 422, "masks"),
    ("method=standard&image=dog", 404, "image"),
]


@pytest.mark.parametrize(("query", "status", "field"), FRAME_ERRORS)
def test_frames_errors_name_the_field(
    client: TestClient, query: str, status: int, field: str
) -> None:
    error = assert_error(client.get(f"/api/frames?{query}"), status, field)
    assert error["allowed"].strip()


def test_frames_error_messages_say_what_is_allowed(client: TestClient) -> None:
    error = assert_error(client.get("/api/frames?method=standard&p=2"), 422, "p")
    assert error["allowed"] == "a number from 0 to 1"
    error = assert_error(client.get("/api/frames?method=standard&pp=0.3"), 422, "pp")
    assert error["allowed"] == "p, scaling"
    error = assert_error(client.get("/api/frames?method=standard&count=65"), 422, "count")
    assert "64" in error["allowed"]
    error = assert_error(client.get("/api/frames?method=dropconnect"), 422, "method")
    assert all(method_id in error["allowed"] for method_id in IMAGE_METHODS)


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("seed=1.5", "seed", "a whole number from 0 to 2147483647"),
        ("seed=x", "seed", "a whole number from 0 to 2147483647"),
        ("start=x", "start", "a whole number >= 0"),
        ("masks=maybe", "masks", "true or false"),
        ("format=xml", "format", "'binary' or 'json'"),
    ],
)
def test_type_errors_name_the_range_from_the_schema(
    client: TestClient, query: str, field: str, allowed: str
) -> None:
    """Not "see /docs": the allowed values come from the route's own OpenAPI schema."""
    error = assert_error(client.get(f"/api/frames?method=standard&{query}"), 422, field)
    assert error["allowed"] == allowed


def test_unknown_method_lists_the_methods_the_endpoint_takes(client: TestClient) -> None:
    image_only = assert_error(client.get("/api/frames?method=nope"), 422, "method")
    assert image_only["allowed"] == ", ".join(IMAGE_METHODS)
    every = assert_error(client.get("/api/code?method=nope"), 422, "method")
    assert every["allowed"] == ", ".join(method.id for method in METHODS)


# ---------------------------------------------------------------- /api/code


@pytest.mark.parametrize("method_id", [method.id for method in METHODS])
def test_code_for_every_method_with_its_defaults(client: TestClient, method_id: str) -> None:
    response = client.get(f"/api/code?method={method_id}&seed=4")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == method_id
    assert body["snippets"]
    for snippet in body["snippets"]:
        assert snippet["framework"] and snippet["label"] and snippet["code"].strip()


def test_code_carries_the_given_parameters(client: TestClient) -> None:
    body = client.get("/api/code?method=cutout&size=40&n_holes=3").json()
    ours = next(s for s in body["snippets"] if s["framework"] == "dropouts")
    assert "F.cutout(x, 40, n_holes=3," in ours["code"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "method"),
        ("method=nope", "method"),
        ("method=standard&p=2", "p"),
        ("method=standard&q=0.1", "q"),
        ("method=dropconnect&samples=0", "samples"),
        ("method=standard&seed=-1", "seed"),
    ],
)
def test_code_errors_name_the_field(client: TestClient, query: str, field: str) -> None:
    error = assert_error(client.get(f"/api/code?{query}"), 422, field)
    assert error["allowed"]


# ---------------------------------------------------------------- pages, docs, vendor files

ATTRIBUTE_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def assert_local(url: str) -> None:
    assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE), url
    assert url.startswith(("/", "#", "data:")), url


def test_docs_are_served_from_local_files(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = ATTRIBUTE_URL.findall(response.text)
    assert urls
    assert not re.search(r"https?://", response.text)
    for url in urls:
        assert_local(url)
        # Swagger UI's files, the script that starts it (no inline script: the CSP), and our
        # stylesheet over Swagger's (contrast)
        ours = ("/static/js/docs.js", "/static/css/docs.css")
        assert url.startswith("/vendor/swagger/") or url in ours, url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content
    assert "/vendor/swagger/swagger-ui-bundle.js" in urls
    assert "/vendor/swagger/swagger-ui.css" in urls
    assert '"/openapi.json"' in client.get("/static/js/docs.js").text
    assert "<script>" not in response.text
    js = client.get("/vendor/swagger/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]
    assert "text/css" in client.get("/vendor/swagger/swagger-ui.css").headers["content-type"]


@pytest.mark.parametrize("name", ["index.html", "..%2F..%2Fapp%2Fconfig.py", "swagger-ui.js"])
def test_only_the_swagger_assets_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/vendor/swagger/{name}")
    assert response.status_code == 404
    assert response.json()["error"]["field"] in ("name", "request")


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/methods": {"get"},
        "/api/images": {"get", "post"},
        "/api/images/{image_id}": {"get"},
        "/api/frames": {"get"},
        "/api/code": {"get"},
    }
    for path, verbs in expected.items():
        assert path in paths, path
        assert verbs <= set(paths[path]), path
    frame_params = {p["name"] for p in paths["/api/frames"]["get"]["parameters"]}
    assert {"method", "image", "seed", "start", "count", "format", "masks"} <= frame_params


def test_plotly_comes_from_the_installed_package(client: TestClient) -> None:
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.content == PLOTLY_JS.read_bytes()


def test_index_inlines_the_boot_json_and_uses_only_local_urls(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    match = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert match
    boot = json.loads(match.group(1))
    assert [m["id"] for m in boot["catalog"]["methods"]] == [m.id for m in METHODS]
    assert [i["id"] for i in boot["images"]] == ["cat", "astronaut", "coffee"]
    assert boot["catalog"] == client.get("/api/methods").json()
    urls = ATTRIBUTE_URL.findall(page)
    # Plotly (1.4 MB) is not in the page: static/js/plotly.js loads it after the first frame.
    assert "/vendor/plotly.min.js" not in urls
    loader = client.get("/static/js/plotly.js")
    assert loader.status_code == 200 and '"/vendor/plotly.min.js"' in loader.text
    # The modules the page opens with are announced, the view's own among them.
    assert "/static/js/views/image.js" in urls
    for url in urls:
        assert_local(url)
        if url.startswith(("/static/", "/vendor/")):
            assert client.get(url).status_code == 200, url


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "request")


def test_frames_of_every_method_on_every_sample(client: TestClient) -> None:
    """A smoke test over every image method on every sample (all parameters at defaults)."""
    for image_id in ("cat", "astronaut", "coffee"):
        for method_id in IMAGE_METHODS:
            header, _ = get_frames(client, f"method={method_id}&image={image_id}&count=2")
            assert len(header["frames"]) == 2
            assert header["image"] == image_id
