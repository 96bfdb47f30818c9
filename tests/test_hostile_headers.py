"""Headers cannot stall or bloat a worker (app/httpbounds.py, the protocol ``dropout-lab
serve`` runs): at most 32 KB and 100 fields, all within the header timeout; past a bound 431
or 408 and the connection closes. On a real uvicorn on loopback, with raw sockets."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from app.httpbounds import MAX_HEADER_BYTES, MAX_HEADER_FIELDS
from app.loopback import serve

pytestmark = pytest.mark.timeout(60)

HEADER_TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"DROPOUT_LAB_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)}
    log = tmp_path_factory.mktemp("log") / "server.log"
    with serve(tmp_path_factory.mktemp("uploads"), log, env=env) as url:
        yield url


def connect(url: str) -> socket.socket:
    address = urlsplit(url)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes its side of the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def send_all(sock: socket.socket, data: bytes) -> None:
    """Send what the server reads before it answers and stops listening."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def request(headers: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + headers + b"Connection: close\r\n\r\n"


def test_ordinary_headers_pass(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(request(b"X-Ok: " + b"a" * 1000 + b"\r\n"))
        assert status_of(answer(sock)) == 200


def test_a_megabyte_header_is_431(server: str) -> None:
    with connect(server) as sock:
        send_all(sock, request(b"X-Big: " + b"a" * (1 << 20) + b"\r\n"))
        data = answer(sock)
    assert status_of(data) == 431 and str(MAX_HEADER_BYTES).encode() in data


def test_twenty_thousand_fields_are_431(server: str) -> None:
    fields = b"".join(b"X-F%d: 1\r\n" % k for k in range(20_000))
    with connect(server) as sock:
        send_all(sock, request(fields))
        data = answer(sock)
    assert status_of(data) == 431 and str(MAX_HEADER_FIELDS).encode() in data


@pytest.mark.parametrize("sent", [b"", b"GET /healthz HTTP/1.1\r\nHost: loc"])
def test_headers_that_never_end_are_408_and_closed(server: str, sent: bytes) -> None:
    with connect(server) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        if sent:  # a byte now and then does not keep it open
            time.sleep(HEADER_TIMEOUT_S / 2)
            sock.sendall(b"a")
        data = answer(sock)
        waited = time.monotonic() - started
    assert status_of(data) == 408
    assert HEADER_TIMEOUT_S - 0.2 < waited < HEADER_TIMEOUT_S + 2, waited


def test_a_slow_answer_is_not_cut_by_the_header_timeout(server: str) -> None:
    """The timeout bounds the headers' arrival, not the answer: a training stream runs on."""
    with httpx.stream("GET", f"{server}/api/train?method=standard&steps=3000", timeout=30) as got:
        assert got.status_code == 200
        started = time.monotonic()
        events = 0
        for line in got.iter_lines():
            events += line.startswith("event:")
            if time.monotonic() - started > HEADER_TIMEOUT_S * 2:
                break
    assert events >= 2 and time.monotonic() - started > HEADER_TIMEOUT_S * 2


def test_keep_alive_requests_each_get_their_time(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(HEADER_TIMEOUT_S / 2)
