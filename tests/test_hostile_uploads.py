"""Upload bodies cannot stall the course server (app/capacity.py): a body is refused from its
``Content-Length`` before it is read, counted while it streams (a chunked body is cut at the
limit), and received with a per-chunk timeout BEFORE the upload lane is taken, so a client that
stalls never holds the lane. On a real uvicorn on loopback, with raw sockets for the hostile
clients."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.loopback import serve

pytestmark = pytest.mark.timeout(120)

CHUNK_TIMEOUT_S = 1.5
LIMIT = Settings().max_upload_bytes
BOUNDARY = "----hostile"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uploads = tmp_path_factory.mktemp("uploads")
    log = tmp_path_factory.mktemp("log") / "server.log"
    env = {"DROPOUT_LAB_UPLOAD_CHUNK_TIMEOUT_S": str(CHUNK_TIMEOUT_S)}
    with serve(uploads, log, env=env) as url:
        yield url


def picture(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def connect(url: str) -> socket.socket:
    address = urlsplit(url)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def upload_head(length: int | None) -> bytes:
    """The request line and headers of an upload of ``length`` bytes (chunked when None)."""
    size = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return (
        "POST /api/images HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{size}\r\n\r\n"
    ).encode()


def part_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()


def response_of(sock: socket.socket) -> tuple[int, dict[str, object]]:
    """The status and the JSON body of the answer on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, json.loads(body[:length])


def normal_upload(url: str, seed: int) -> tuple[int, float]:
    started = time.monotonic()
    answer = httpx.post(
        f"{url}/api/images", files={"file": ("p.png", picture(seed), "image/png")}, timeout=30
    )
    return answer.status_code, time.monotonic() - started


@contextlib.contextmanager
def stalled_uploads(url: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` uploads that declared 1 MB and sent 1 KB of it, then nothing."""
    sockets = []
    try:
        for _ in range(count):
            sock = connect(url)
            sock.sendall(upload_head(1 << 20) + part_head() + b"\0" * 1024)
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_a_stalled_body_does_not_hold_the_upload_lane(server: str) -> None:
    with stalled_uploads(server, 1):
        time.sleep(0.3)
        status, seconds = normal_upload(server, 1)
    assert status == 201 and seconds < CHUNK_TIMEOUT_S, seconds


def test_seventeen_stalled_bodies_leave_uploads_working(server: str) -> None:
    """The upload lane has one slot and a queue of 16: before, 17 stalled bodies filled it."""
    with stalled_uploads(server, 17):
        time.sleep(0.3)
        status, seconds = normal_upload(server, 2)
    assert status == 201 and seconds < CHUNK_TIMEOUT_S, seconds


def test_a_stalled_body_is_answered_408_after_the_chunk_timeout(server: str) -> None:
    with stalled_uploads(server, 1) as (sock,):
        started = time.monotonic()
        status, body = response_of(sock)
        waited = time.monotonic() - started
    assert status == 408 and body["error"]["field"] == "file"  # type: ignore[index]
    assert CHUNK_TIMEOUT_S - 0.2 < waited < CHUNK_TIMEOUT_S + 3, waited


def test_an_oversized_body_is_refused_from_its_content_length_unread(server: str) -> None:
    sock = connect(server)
    with sock:
        sock.sendall(upload_head(200 << 20))  # 200 MB declared, not a byte of it sent
        started = time.monotonic()
        status, body = response_of(sock)
    assert status == 413 and time.monotonic() - started < 2
    error = body["error"]
    assert error["field"] == "file" and error["allowed"] == f"at most {LIMIT >> 20} MB"  # type: ignore[index]


def test_a_chunked_body_is_cut_at_the_limit(server: str, tmp_path: Path) -> None:
    """A chunked body of 60 MB: the answer comes once the limit is passed, and the server
    reads no more (the client could send at most its socket buffers beyond the limit)."""
    sock = connect(server)
    sent = 0
    chunk = b"\0" * (256 << 10)
    with sock:
        sock.sendall(upload_head(None))
        sock.settimeout(5)
        try:
            while sent < 60 << 20:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection after its answer
        status, body = response_of(sock)
    assert status == 413, body
    assert sent < 2 * LIMIT + (8 << 20), sent
