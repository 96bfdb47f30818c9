"""Several worker processes (``dropout-lab serve --workers 2``, as ``make serve`` and the
Dockerfile run the app): a picture uploaded through one worker is animated by the other.

Each worker is a real process of the real server; a keep-alive connection stays with one
worker, and ``/healthz`` says which (its pid), so the test uploads on one connection and asks
for the frames on a connection that it has seen reach the other worker.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uploads = tmp_path_factory.mktemp("shared-uploads")
    log_path = tmp_path_factory.mktemp("server") / "serve.log"
    port = free_port()
    env = dict(os.environ, DROPOUT_LAB_UPLOADS=str(uploads), LOG_LEVEL="warning")
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        pids = _wait_for_workers(process, url, log_path)
        assert len(pids) == 2
        yield url
    finally:
        process.terminate()
        process.wait(20)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def _wait_for_workers(process: subprocess.Popen[bytes], url: str, log_path: Path) -> set[int]:
    """Until both workers have answered /healthz (each on a new connection)."""
    seen: set[int] = set()
    deadline = time.monotonic() + 90
    while len(seen) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start two workers:\n{log_path.read_text()}")
        try:
            answer = httpx.get(f"{url}/healthz", timeout=5)
            if answer.status_code == 200:
                seen.add(answer.json()["pid"])
        except httpx.HTTPError:
            time.sleep(0.1)
    return seen


def picture(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (80, 120, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def worker_of(client: httpx.Client, url: str) -> int:
    pid: int = client.get(f"{url}/healthz").json()["pid"]
    return pid


def test_a_picture_uploaded_through_one_worker_is_animated_by_the_other(two_workers: str) -> None:
    url = two_workers
    for round_ in range(4):
        with httpx.Client(timeout=30) as first:  # one keep-alive connection: one worker
            uploader = worker_of(first, url)
            sent = first.post(
                f"{url}/api/images", files={"file": ("mine.png", picture(round_), "image/png")}
            )
            assert sent.status_code == 201, sent.text
            image_id = sent.json()["id"]
            assert worker_of(first, url) == uploader
        for _ in range(200):  # a new connection until one reaches the other worker
            with httpx.Client(timeout=30) as second:
                if worker_of(second, url) == uploader:
                    continue
                frames = second.get(
                    f"{url}/api/frames?method=dropblock&image={image_id}&count=4&seed={round_}"
                )
                assert frames.status_code == 200, frames.text
                assert worker_of(second, url) != uploader
                scene = second.get(f"{url}/api/scene?view=feature_maps&image={image_id}")
                assert scene.status_code == 200
                break
        else:
            pytest.fail("200 new connections all reached the uploading worker")


def test_every_connection_animates_every_upload(two_workers: str) -> None:
    url = two_workers
    ids = []
    for seed in range(10, 16):
        files = {"file": ("p.png", picture(seed), "image/png")}
        sent = httpx.post(f"{url}/api/images", files=files)
        ids.append(sent.json()["id"])
    workers = set()
    for image_id in ids * 3:  # each request on a new connection, whichever worker takes it
        with httpx.Client(timeout=30) as client:
            workers.add(worker_of(client, url))
            answer = client.get(f"{url}/api/frames?method=standard&image={image_id}")
            assert answer.status_code == 200, answer.text
    assert len(workers) == 2
