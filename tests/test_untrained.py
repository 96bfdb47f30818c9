"""Only a training stream trains (app/untrained.py, dropouts/lab/flights.py): a frame, a match or an
export of a trained view whose network is not trained yet is answered 503 at once, naming the
stream to open, and starts no training; the stream trains it once, however many ask; its cost
is bounded before it starts (a plain 422 naming the field to lower)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from training_streams import STREAM_HEADER, train_through_stream

from app.config import Settings
from app.main import create_app
from dropouts.lab import uncertainty as U
from dropouts.lab.compression import COMPRESSION_RUNS
from dropouts.lab.training import DENSE_RUNS

# A setting of each trained view that nothing else in the suite trains (its own seed), small.
CASES = {
    "dense": (
        "view=dense&method=standard&network=trained&steps=60&train_width=8&n_train=20",
        DENSE_RUNS,
    ),
    "uncertainty": (
        "view=uncertainty&method=mc_dropout&steps=100&n_train=10",
        U.UNCERTAINTY_RUNS,
    ),
    "compression": (
        "view=compression&method=compression&dataset=moons&width=16&epochs=10",
        COMPRESSION_RUNS,
    ),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(upload_dir=tmp_path_factory.mktemp("uploads")))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_untrained(answer: object, view_id: str) -> str:
    """A 503 at once with Retry-After and the training stream of ``view_id`` (the one route,
    naming the view); the stream's address."""
    from httpx import Response

    assert isinstance(answer, Response)
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    body = answer.json()
    assert body["error"]["field"] == "training"
    stream: str = answer.headers[STREAM_HEADER]
    assert body["training"]["stream"] == stream and urlsplit(stream).path == "/api/train"
    assert parse_qs(urlsplit(stream).query)["view"] == [view_id]
    return stream


@pytest.mark.parametrize("view_id", sorted(CASES))
def test_frames_of_an_untrained_setting_are_503_at_once_and_train_nothing(
    client: TestClient, view_id: str
) -> None:
    query, runs = CASES[view_id]
    query += "&seed=8101"
    started = runs.started
    before = time.monotonic()
    answer = client.get(f"/api/frames?{query}&start=0&count=2")
    assert time.monotonic() - before < 2.0
    stream = assert_untrained(answer, view_id)
    assert runs.started == started  # the frame request trained nothing
    # The stream names the same setting (its query's values are the request's).
    named = parse_qs(urlsplit(stream).query)
    assert named["seed"] == ["8101"] and named["method"] == [
        query.split("method=")[1].split("&")[0]
    ]
    events = train_through_stream(client, stream)
    assert events[0] == "info" and events[-1] == "done"
    assert runs.started == started + 1
    assert client.get(f"/api/frames?{query}&start=0&count=2").status_code == 200
    # A replay of the remembered run trains nothing more.
    assert train_through_stream(client, stream)[-1] == "done"
    assert runs.started == started + 1


@pytest.mark.parametrize("view_id", sorted(CASES))
def test_matches_and_exports_of_an_untrained_setting_are_503_at_once(
    client: TestClient, view_id: str
) -> None:
    query, runs = CASES[view_id]
    query += "&seed=8202"
    started = runs.started
    export = f"{query}&format=gif&frames=2&resolution=64x64"
    for address in (f"/api/export?{export}", f"/api/export/events?{export}"):
        before = time.monotonic()
        assert_untrained(client.get(address), view_id)
        assert time.monotonic() - before < 2.0, address
    match = client.get(f"/api/match?{query}&fraction=0.3")
    if view_id == "uncertainty":  # its dropped fraction is p: no network needed
        assert match.status_code == 200 and match.json()["params"]["p"] == 0.3
    else:
        assert_untrained(match, view_id)
    assert runs.started == started


def test_two_streams_of_one_setting_share_one_run(client: TestClient) -> None:
    query, runs = CASES["compression"]
    stream = f"/api/train/compression?{query.split('&', 2)[2]}&seed=8303"
    started = runs.started
    results: dict[int, list[str]] = {}

    def follow(k: int) -> None:
        results[k] = train_through_stream(client, stream)

    threads = [threading.Thread(target=follow, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results[0] == results[1] and results[0][-1] == "done"
    assert results[0].count("progress") == 100  # every checkpoint, to both
    assert runs.started == started + 1


def test_a_remembered_run_replays_even_when_the_process_trains_its_limit(
    tmp_path: Path, client: TestClient
) -> None:
    query, _ = CASES["uncertainty"]
    stream = f"/api/train/uncertainty?{query.split('&', 2)[2]}&seed=8404"
    assert train_through_stream(client, stream)[-1] == "done"  # remembered by this process
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_training_runs=0))) as full:
        assert train_through_stream(full, stream)[-1] == "done"
        refused = full.get(stream.replace("8404", "8405"))  # this one would train
        assert refused.status_code == 503 and refused.json()["error"]["field"] == "training"


@pytest.mark.parametrize(
    ("address", "field"),
    [
        # DropConnect's largest run: minutes in one Gaussian evaluation before any step.
        (
            "/api/train?method=dropconnect&samples=10000&steps=5000&train_width=256"
            "&train_depth=4&n_train=40",
            "train_width",
        ),
        (
            "/api/train?method=standard&steps=5000&train_width=256&train_depth=4&n_train=1000",
            "steps",
        ),
        ("/api/train/compression?epochs=400&width=128&depth=3", "epochs"),
    ],
)
def test_a_run_over_the_budget_is_refused_before_it_starts(
    client: TestClient, address: str, field: str
) -> None:
    before = time.monotonic()
    answer = client.get(address)
    assert time.monotonic() - before < 2.0
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and "at most" in error["allowed"]
    assert "s a run may take here" in error["message"]


def test_the_budget_names_a_value_that_fits() -> None:
    from dropouts.lab.budget import TRAINING_BUDGET_S
    from dropouts.lab.compression import CompressionSetup, estimated_seconds
    from dropouts.lab.registry import ParamError

    with pytest.raises(ParamError) as refused:
        COMPRESSION_RUNS.get(CompressionSetup(epochs=400, width=128, depth=3))
    most = int(refused.value.allowed.split()[2])
    assert estimated_seconds(CompressionSetup(epochs=most, width=128, depth=3)) <= TRAINING_BUDGET_S
    assert estimated_seconds(CompressionSetup(epochs=most + 10, width=128, depth=3)) > (
        TRAINING_BUDGET_S
    )
