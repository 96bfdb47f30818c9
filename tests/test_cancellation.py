"""After a client leaves, its work stops: within 2 s of the disconnect the server's process
(and its ffmpeg) uses no more CPU, for every training kind, every export format, frames and
matches; and a lane's or a run's place is held until the work has really stopped. Measured on
a real uvicorn on loopback, by the worker's CPU time (psutil), not by timing requests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from app.loopback import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SETTLE_S = 2.0  # the promise: the work ends within this after the client left
WINDOW_S = 1.5  # then the process is watched this long
IDLE_SHARE = 0.15  # of one core, at most, over the window (an idle server uses about 0)

# Each would keep a core busy for 7 to 20 s more if nothing stopped it.
STREAMS = {
    "dense training": "/api/train?method=standard&steps=400&n_train=1000&train_width=256"
    "&train_depth=4&seed=11",
    "DropConnect, Gaussian rule": "/api/train?method=dropconnect&samples=1000&steps=2000"
    "&train_width=64&n_train=100&seed=12",
    "uncertainty training": "/api/train/uncertainty?steps=5000&n_train=400&seed=13",
    "compression training": "/api/train/compression?epochs=290&width=128&depth=3&seed=14",
    "memory task": "/api/train/memory?seed=15",
    "GIF export": "/api/export/events?method=gaussian&format=gif&frames=75"
    "&resolution=1280x720&seed=16",
    "MP4 export": "/api/export/events?method=gaussian&format=mp4&frames=200"
    "&resolution=1280x720&seed=17",
    "HTML export": "/api/export/events?method=gaussian&format=html&frames=75"
    "&resolution=1280x720&seed=18",
}
REQUESTS = {
    "frames": "/api/frames?view=lstm&method=variational_rnn&count=64&length=100&seed=19",
    # 512 iterations of statistics: about 6 s of a core here, stopped between two frames.
    "statistics": "/api/frames?view=lstm&method=variational_rnn&count=512&masks=false"
    "&length=100&units=64&seed=21",
    "match": "/api/match?view=dense&method=standout&fraction=0.4&width=8&depth=3&seed=20",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("log") / "server.log"
    with serve(tmp_path_factory.mktemp("uploads"), log) as url:
        yield url


def cpu_seconds(pid: int) -> float:
    """CPU time of the process and of its children (ffmpeg) so far."""
    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def busy_share_after(pid: int) -> float:
    """The share of one core the process uses over WINDOW_S, SETTLE_S from now."""
    time.sleep(SETTLE_S)
    before = cpu_seconds(pid)
    time.sleep(WINDOW_S)
    return (cpu_seconds(pid) - before) / WINDOW_S


def assert_at_rest(url: str) -> None:
    health = httpx.get(f"{url}/healthz", timeout=5).json()
    assert all(lane["running"] == 0 for lane in health["load"].values()), health
    assert httpx.get(f"{url}/api/train/runs", timeout=5).json()["training"] == 0


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_a_stream_left_stops_its_work(server: str, name: str) -> None:
    pid = httpx.get(f"{server}/healthz", timeout=5).json()["pid"]
    with httpx.Client(timeout=30) as http, http.stream("GET", server + STREAMS[name]) as answer:
        assert answer.status_code == 200, answer.read()
        started = time.monotonic()
        for line in answer.iter_lines():  # listen a moment: the work is under way
            if line.startswith("event:") and time.monotonic() - started > 1.0:
                break
        assert cpu_seconds(pid) > 0
    share = busy_share_after(pid)
    assert share < IDLE_SHARE, f"{name}: {share:.0%} of a core {SETTLE_S} s after the client left"
    assert_at_rest(server)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_request_left_stops_its_work(server: str, name: str) -> None:
    pid = httpx.get(f"{server}/healthz", timeout=5).json()["pid"]
    with pytest.raises(httpx.TimeoutException):
        httpx.get(server + REQUESTS[name], timeout=0.05)
    share = busy_share_after(pid)
    assert share < IDLE_SHARE, f"{name}: {share:.0%} of a core {SETTLE_S} s after the client left"
    assert_at_rest(server)
