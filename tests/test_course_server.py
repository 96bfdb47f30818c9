"""What a course server needs (app/caching.py, app/capacity.py, app/images.py): strong ETags
and 304 before any computing, a bounded upload store, and load shed with a fast 503.

The 304 and upload tests go through FastAPI's TestClient; load shedding through a real uvicorn
on loopback (the gate lives in the event loop and needs real concurrent connections).
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.caching import GZIP_SUFFIX, build_fingerprint, entity_tag
from app.config import Settings
from app.images import ImageStore
from app.loopback import serve
from app.main import create_app

FRAMES = "/api/frames?method=standard&view=image&image=cat&seed=3&start=0&count=2&p=0.3"


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(upload_dir=tmp_path, **settings)))


def picture(seed: int, side: int = 96) -> bytes:
    """A PNG of noise (incompressible: its size is about 3 side² bytes)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: TestClient, data: bytes) -> str:
    answer = client.post("/api/images", files={"file": ("p.png", data, "image/png")})
    assert answer.status_code == 201, answer.text
    image_id: str = answer.json()["id"]
    return image_id


# ---------------------------------------------------------------- ETag and 304


def test_a_deterministic_answer_has_a_strong_etag_and_a_conditional_get_is_304(
    tmp_path: Path,
) -> None:
    with make_client(tmp_path) as client:
        first = client.get(FRAMES)
        assert first.status_code == 200 and "immutable" in first.headers["cache-control"]
        tag = first.headers["etag"]
        assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
        again = client.get(FRAMES)
        assert again.headers["etag"] == tag and again.content == first.content
        cached = client.get(FRAMES, headers={"If-None-Match": tag})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == tag
        listed = client.get(FRAMES, headers={"If-None-Match": f'"other", {tag}'})
        assert listed.status_code == 304
        stale = client.get(FRAMES, headers={"If-None-Match": '"not-this-one"'})
        assert stale.status_code == 200 and stale.content == first.content
        # Another seed is another answer, another tag; an error has none.
        other = client.get(FRAMES.replace("seed=3", "seed=4"))
        assert other.headers["etag"] != tag
        refused = client.get(FRAMES.replace("p=0.3", "p=7"))
        assert refused.status_code == 422 and "etag" not in refused.headers
        # Scenes, images and the code are deterministic too.
        for path in ("/api/scene?view=feature_maps&image=cat", "/api/images/cat"):
            answer = client.get(path)
            assert answer.status_code == 200 and answer.headers["etag"]
            assert (
                client.get(path, headers={"If-None-Match": answer.headers["etag"]}).status_code
                == 304
            )


def test_the_tag_names_the_bytes_gzipped_answers_have_their_own(tmp_path: Path) -> None:
    json_frames = FRAMES + "&format=json"
    with make_client(tmp_path) as client:
        plain = client.get(json_frames, headers={"Accept-Encoding": "identity"})
        zipped = client.get(json_frames, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["etag"] == plain.headers["etag"][:-1] + GZIP_SUFFIX + '"'
        for tag in (plain.headers["etag"], zipped.headers["etag"]):
            answer = client.get(json_frames, headers={"If-None-Match": tag})
            assert answer.status_code == 304 and answer.headers["etag"] == tag


def test_the_tag_is_the_same_in_every_worker_and_changes_with_the_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = entity_tag("GET", "/api/frames", b"method=standard")
    assert tag == entity_tag("GET", "/api/frames", b"method=standard")  # no per-process salt
    assert tag != entity_tag("GET", "/api/frames", b"method=cutout")
    assert len(build_fingerprint()) == 64
    monkeypatch.setattr("app.caching.build_fingerprint", lambda: "another build")
    assert entity_tag("GET", "/api/frames", b"method=standard") != tag


def test_a_304_is_answered_even_when_the_server_is_full(tmp_path: Path) -> None:
    """The conditional GET is answered before the CPU gate: a full server still says 304."""
    with make_client(tmp_path) as client:
        tag = client.get(FRAMES).headers["etag"]
        load = client.app.state.lanes["quick"]  # type: ignore[attr-defined]
        load.running = load.workers + load.queue  # as if every place were taken
        try:
            busy = client.get(FRAMES)
            assert busy.status_code == 503 and busy.headers["retry-after"]
            assert busy.json()["error"]["field"] == "server"
            assert client.get(FRAMES, headers={"If-None-Match": tag}).status_code == 304
            assert client.get("/api/methods").status_code == 200  # no computing: no gate
        finally:
            load.running = 0
        assert client.get(FRAMES).status_code == 200


# ---------------------------------------------------------------- the upload store


def test_the_upload_store_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    size = len(picture(0))  # the stored PNG is about this size
    with make_client(tmp_path, max_upload_store_bytes=int(2.5 * size)) as client:
        first, second = upload(client, picture(0)), upload(client, picture(1))
        time.sleep(0.02)
        assert client.get(f"/api/frames?method=standard&image={first}").status_code == 200
        time.sleep(0.02)  # first is now the more recently used
        third = upload(client, picture(2))
        stored = {path.stem for path in tmp_path.glob("u*.png")}
        assert stored == {first, third}, "the least recently used upload goes first"
        # Another worker, reading the same directory, no longer has it; the samples stay.
        other = make_client(tmp_path, max_upload_store_bytes=int(2.5 * size))
        with other:
            assert other.get(f"/api/images/{second}").status_code == 404
            assert other.get(f"/api/images/{third}").status_code == 200
            assert other.get("/api/images/cat").status_code == 200
        total = sum(path.stat().st_size for path in tmp_path.glob("u*.png"))
        assert total <= 2.5 * size
        # Never under a name the user chose: only the content's hash names a file.
        assert all(
            path.name.startswith("u") and len(path.stem) == 25 for path in tmp_path.iterdir()
        )


def test_an_upload_in_use_is_written_back_if_it_was_evicted(tmp_path: Path) -> None:
    store = ImageStore(Settings(upload_dir=tmp_path))
    image_id = store.add(picture(5)).id
    path = tmp_path / f"{image_id}.png"
    path.unlink()  # evicted by another worker
    assert store.get(image_id).id == image_id  # this worker still holds it in memory…
    assert path.exists()  # …and puts it back for the others
    assert ImageStore(Settings(upload_dir=tmp_path)).get(image_id).png == store.get(image_id).png


# ---------------------------------------------------------------- load shedding


def _flood(url: str, count: int) -> list[tuple[int, float, httpx.Headers, Any]]:
    """``count`` distinct slow requests at once (GIF exports of different seeds), each on its
    own connection from its own thread."""

    def one(seed: int) -> tuple[int, float, httpx.Headers, Any]:
        started = time.perf_counter()
        answer = httpx.get(
            f"{url}/api/export?method=standard&format=gif&frames=24&size=480x270&seed={seed}",
            timeout=120,
        )
        body = answer.json() if answer.status_code != 200 else None
        return answer.status_code, time.perf_counter() - started, answer.headers, body

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_past_its_bound_the_server_sheds_load_at_once_and_recovers(tmp_path: Path) -> None:
    limits = {"DROPOUT_LAB_HEAVY_WORKERS": "1", "DROPOUT_LAB_HEAVY_QUEUE": "2"}
    with serve(tmp_path / "uploads", tmp_path / "server.log", env=limits) as url:
        results = _flood(url, 12)
        done = [r for r in results if r[0] == 200]
        shed = [r for r in results if r[0] == 503]
        assert len(done) + len(shed) == 12, [r[0] for r in results]
        assert len(done) >= 3 and shed, [r[0] for r in results]
        for _, _, headers, body in shed:
            assert int(headers["retry-after"]) >= 1
            assert body["error"]["field"] == "server" and body["error"]["allowed"]
        # A shed request is answered at once: before any export that was let through.
        assert max(seconds for _, seconds, _, _ in shed) < min(seconds for _, seconds, _, _ in done)
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "ok"
        heavy = health["load"]["heavy"]
        assert heavy["running"] == 0 and heavy["waiting"] == 0 and heavy["shed"] == len(shed)
        assert httpx.get(f"{url}{FRAMES}").status_code == 200  # answers normally again
        assert health["load"]["quick"]["shed"] == 0  # the exports never held up the frames
    assert "Traceback" not in (tmp_path / "server.log").read_text()


@pytest.mark.parametrize("path", ["/healthz", "/api/methods", "/static/js/main.js"])
def test_the_gate_leaves_requests_that_do_not_compute_alone(tmp_path: Path, path: str) -> None:
    with make_client(tmp_path, cpu_workers=1, cpu_queue=0) as client:
        load = client.app.state.lanes["quick"]  # type: ignore[attr-defined]
        load.running = 1
        try:
            assert client.get(path).status_code == 200
            assert client.get(FRAMES).status_code == 503
        finally:
            load.running = 0
