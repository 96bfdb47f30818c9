"""The dense view's training run: the data sets, the networks, determinism, dropout against
overfitting (:mod:`dropouts.lab.training`), and ``GET /api/train`` (validation, the event stream,
the bound on concurrent runs, stopping when the client goes away).

The overfitting set-up is the registry's default (moons, noise 0.35, 100 training points,
2-64-64-2 ReLU, 500 full-batch Adam steps at lr 0.01, standard dropout at p = 0.5). Final test
losses (cross-entropy, 1000 test points), dropout against the baseline, per seed:

    seed  dropout  baseline  ratio      seed  dropout  baseline  ratio
      0    0.393    1.465    3.72         5    1.011    3.067    3.03
      1    1.037    3.610    3.48         6    1.193    2.398    2.01
      2    0.488    1.485    3.04         7    0.771    1.578    2.05
      3    0.619    2.890    4.67         8    0.649    2.054    3.16
      4    0.994    2.091    2.10         9    0.723    3.066    4.24

Over seeds 0-29 the dropout network's test loss is lower on every seed; the smallest ratio
(baseline / dropout) is 1.48 and the smallest difference 0.51 nats (both seed 17), the median
ratio 3.2. The test asserts a ratio of at least 1.5 and a difference of at least 0.5 nats on
seeds 0-4 (there the smallest ratio is 2.10 and the smallest difference 1.00). With fewer
points (40) or less noise (0.15) the dropout network overfits too and the gap is not reliable:
the default set-up was chosen for a clear gap over many seeds, not for one seed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from app.config import Settings
from app.loopback import serve
from app.main import create_app
from app.streaming import TrainingRuns
from dropouts.lab.registry import ParamError
from dropouts.lab.training import (
    DATASETS,
    GRID,
    N_TEST,
    Snapshot,
    TrainingSetup,
    build_network,
    dense_methods,
    initial_weights,
    make_dataset,
    snapshot_steps,
    train,
    trained_network,
    training_data,
)
from dropouts.modules import (
    AlphaDropout,
    DropConnectLinear,
    Dropout,
    DropoutModule,
    GaussianDropout,
    StandoutLinear,
)

FAST = {"steps": 60}  # a short run: the properties below hold at any length


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linears(network: torch.nn.Module) -> list[torch.nn.Module]:
    kinds = (torch.nn.Linear, DropConnectLinear, StandoutLinear)
    return [module for module in network if isinstance(module, kinds)]


# ---------------------------------------------------------------- data


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_are_balanced_deterministic_and_of_order_one(name: str) -> None:
    x, y = make_dataset(name, 101, 0.1, generator(3))
    assert x.shape == (101, 2) and x.dtype == torch.float32
    assert y.shape == (101,) and y.dtype == torch.int64
    assert int((y == 0).sum()) == 51 and int((y == 1).sum()) == 50
    again_x, again_y = make_dataset(name, 101, 0.1, generator(3))
    assert torch.equal(x, again_x) and torch.equal(y, again_y)
    assert not torch.equal(x, make_dataset(name, 101, 0.1, generator(4))[0])
    assert 0.3 < float(x.abs().max()) < 2.5
    assert float(x.std()) > 0.3


def test_dataset_shapes_without_noise() -> None:
    x, y = make_dataset("circles", 200, 0.0, generator())
    radius = x.double().norm(dim=1)
    assert torch.allclose(radius[y == 0], torch.ones(100, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(radius[y == 1], torch.full((100,), 0.5, dtype=torch.float64), atol=1e-6)
    x, y = make_dataset("xor", 200, 0.0, generator())
    assert torch.equal((x[:, 0] * x[:, 1] > 0).long(), y)
    x, y = make_dataset("moons", 200, 0.0, generator())
    centre = torch.tensor([[-0.5, -0.25], [0.5, 0.25]])  # the two half circles' centres
    for label in (0, 1):
        distance = (x[y == label] - centre[label]).norm(dim=1)
        assert torch.allclose(distance, torch.ones_like(distance), atol=1e-5)
    x, _ = make_dataset("spiral", 200, 0.0, generator())
    assert float(x.norm(dim=1).max()) <= 1.25 + 1e-6


def test_dataset_noise_is_the_standard_deviation_added() -> None:
    clean, _ = make_dataset("circles", 4000, 0.0, generator(1))
    noisy, _ = make_dataset("circles", 4000, 0.3, generator(1))
    # the same clean points (the noise is drawn after them), then N(0, 0.3²) per coordinate
    assert abs(float((noisy - clean).std()) - 0.3) < 0.015


def test_bad_dataset_arguments_raise() -> None:
    with pytest.raises(ValueError, match="dataset"):
        make_dataset("swiss roll", 10, 0.1, generator())
    with pytest.raises(ValueError, match="noise"):
        make_dataset("moons", 10, -1.0, generator())


def test_the_test_set_does_not_change_with_the_training_set_size() -> None:
    small = training_data(TrainingSetup("standard", n_train=20))
    large = training_data(TrainingSetup("standard", n_train=200))
    assert torch.equal(small.x_test, large.x_test) and torch.equal(small.y_test, large.y_test)
    assert small.x_test.shape == (N_TEST, 2)
    x_min, x_max, y_min, y_max = large.extent
    points = torch.cat([large.x_train, large.x_test])
    assert x_min < float(points[:, 0].min()) and float(points[:, 0].max()) < x_max
    assert y_min < float(points[:, 1].min()) and float(points[:, 1].max()) < y_max
    assert math.isclose(x_max - x_min, y_max - y_min, rel_tol=1e-3)  # square


# ---------------------------------------------------------------- the setup


def test_setup_from_params_reads_the_registry_names_and_validates() -> None:
    setup = TrainingSetup.from_params(
        "standard",
        {"p": 0.3, "dataset": "xor", "noise": 0.1, "n_train": 50, "train_width": 32,
         "train_depth": 3, "steps": 200, "lr": 0.005, "network": "toy", "width": 5},
        seed=7,
    )  # fmt: skip
    assert (setup.dataset, setup.noise, setup.n_train) == ("xor", 0.1, 50)
    assert (setup.width, setup.depth, setup.steps, setup.lr, setup.seed) == (32, 3, 200, 0.005, 7)
    assert setup.method_params == {"p": 0.3, "scaling": "inverted"}  # defaults filled in
    assert TrainingSetup.from_params("standard", {"seed": 4}).seed == 4
    # the same run, however it is spelled, is the same (hashable) key
    assert TrainingSetup("standard") == TrainingSetup.from_params("standard", {"p": 0.5})
    assert hash(TrainingSetup("gaussian")) == hash(TrainingSetup("gaussian", (("sigma", None),)))


@pytest.mark.parametrize(
    ("method", "values", "field"),
    [
        ("cutout", {}, "method"),
        ("nonsense", {}, "method"),
        ("standard", {"p": 1.5}, "p"),
        ("standard", {"n_train": 5}, "n_train"),
        ("standard", {"dataset": "swiss roll"}, "dataset"),
        ("standard", {"lr": 1}, "lr"),
        ("dropconnect", {"n_train": 1000, "train_width": 256}, "n_train"),
    ],
)
def test_setup_errors_name_the_field(method: str, values: dict[str, Any], field: str) -> None:
    with pytest.raises(ParamError) as error:
        TrainingSetup.from_params(method, values)
    assert error.value.field == field


# ---------------------------------------------------------------- the networks


@pytest.mark.parametrize("method", dense_methods())
def test_both_networks_start_from_the_same_weights(method: str) -> None:
    setup = TrainingSetup(method, width=16, depth=3)
    with_method, baseline = build_network(setup, True), build_network(setup, False)
    assert not any(isinstance(m, DropoutModule) for m in baseline.modules())
    layers = linears(with_method)
    assert len(layers) == len(linears(baseline)) == 4  # 3 hidden, 1 output
    for ours, theirs, (weight, bias) in zip(
        layers, linears(baseline), initial_weights(setup), strict=True
    ):
        assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.weight, weight)
        assert torch.equal(ours.bias, theirs.bias) and torch.equal(ours.bias, bias)
    kind = {
        "standard": Dropout,
        "gaussian": GaussianDropout,
        "alpha": AlphaDropout,
        "dropconnect": DropConnectLinear,
        "standout": StandoutLinear,
    }[method]
    assert sum(isinstance(m, kind) for m in with_method.modules()) == 3
    x = torch.randn(5, 2, generator=generator())
    with_method.eval()
    baseline.eval()
    if method in ("standard", "gaussian", "alpha"):  # the test-time rule is the identity
        assert torch.allclose(with_method(x), baseline(x))


def test_alpha_networks_are_selu_with_lecun_normal_weights() -> None:
    setup = TrainingSetup("alpha", width=256, depth=2)
    network = build_network(setup, False)
    assert "selu" in repr(network) and "relu" not in repr(network)
    hidden = linears(network)[1]
    assert abs(float(hidden.weight.detach().var()) * 256 - 1.0) < 0.05  # N(0, 1 / fan_in)
    assert float(hidden.bias.detach().abs().max()) == 0.0
    assert "relu" in repr(build_network(TrainingSetup("standard"), False))


# ---------------------------------------------------------------- training


def snapshots_equal(a: Snapshot, b: Snapshot) -> bool:
    def same(x: Any, y: Any) -> bool:
        return x.__dict__.keys() == y.__dict__.keys() and all(
            torch.equal(v, getattr(y, k)) if isinstance(v, torch.Tensor) else v == getattr(y, k)
            for k, v in x.__dict__.items()
        )

    return (
        (a.step, a.extent) == (b.step, b.extent)
        and same(a.dropout, b.dropout)
        and same(a.baseline, b.baseline)
    )


@pytest.mark.parametrize("method", dense_methods())
def test_a_run_is_deterministic(method: str) -> None:
    setup = TrainingSetup(method, (("samples", 8),) if method == "dropconnect" else (), **FAST)
    first, second = list(train(setup)), list(train(setup))
    assert len(first) == len(second) == len(snapshot_steps(setup))
    assert all(snapshots_equal(a, b) for a, b in zip(first, second, strict=True))
    other = list(train(TrainingSetup(method, setup.params, seed=1, **FAST)))
    assert other[-1].dropout.test_loss != first[-1].dropout.test_loss


def test_snapshots_come_at_step_zero_then_evenly_and_at_the_last_step() -> None:
    setup = TrainingSetup("standard", steps=500)
    assert snapshot_steps(setup) == tuple(range(0, 501, 10))
    assert snapshot_steps(TrainingSetup("standard", steps=1234))[-2:] == (1224, 1234)
    assert snapshot_steps(TrainingSetup("standard", steps=50)) == tuple(range(51))
    snapshots = iter(train(setup))
    first = next(snapshots)
    assert first.step == 0 and first.dropout.objective is None
    # as initialised, both networks are the same function at test time (inverted dropout)
    assert torch.equal(first.dropout.boundary, first.baseline.boundary)
    assert first.dropout.boundary.shape == (GRID, GRID)
    second = next(snapshots)
    assert second.step == 10 and second.dropout.objective is not None


def test_the_gaussian_dropconnect_rule_is_evaluated_less_often() -> None:
    cheap = TrainingSetup("dropconnect", (("inference", "mean"),))
    costly = TrainingSetup("dropconnect", (("inference", "gaussian"), ("samples", 1000)))
    assert len(snapshot_steps(cheap)) == 51
    steps = snapshot_steps(costly)
    assert steps[0] == 0 and steps[-1] == costly.steps and 2 <= len(steps) < 51


def test_cancelled_stops_the_run_between_steps() -> None:
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 25

    snapshots = list(train(TrainingSetup("standard", steps=500), cancelled=cancelled))
    assert [s.step for s in snapshots] == [0, 10, 20]
    assert calls == 26


def test_every_dense_method_trains_without_nan() -> None:
    cases = [
        ("standard", {}),
        ("standard", {"scaling": "original", "p": 0.8}),
        ("gaussian", {}),
        ("gaussian", {"sigma": 3.0}),
        ("alpha", {}),
        ("alpha", {"p": 0.5}),
        ("dropconnect", {"inference": "mean"}),
        ("dropconnect", {"inference": "gaussian", "samples": 16, "p": 0.9}),
        ("standout", {}),
        ("standout", {"form": "tied", "alpha": -5.0, "beta": 5.0}),
        ("standout", {"alpha": 5.0, "beta": -5.0}),
    ]
    for method, params in cases:
        setup = TrainingSetup(method, tuple(params.items()), steps=100, n_train=40)
        last = list(train(setup, snapshots=2))[-1]
        for shot in (last.dropout, last.baseline):
            numbers = [shot.train_loss, shot.test_loss, shot.train_accuracy, shot.test_accuracy]
            assert all(math.isfinite(n) for n in [*numbers, shot.objective or 0.0]), (
                method,
                params,
            )
            assert torch.isfinite(shot.boundary).all()
            assert float(shot.boundary.min()) >= 0.0 and float(shot.boundary.max()) <= 1.0
        assert last.dropout.train_accuracy > 0.6, (method, params)  # it learned something


def final(setup: TrainingSetup) -> Snapshot:
    return list(train(setup, snapshots=1, grid=2))[-1]


def test_the_baseline_overfits_on_the_default_setup() -> None:
    last = final(TrainingSetup("standard"))
    assert last.baseline.train_loss < 0.05
    assert last.baseline.test_loss > 20 * last.baseline.train_loss
    assert last.baseline.train_accuracy > last.baseline.test_accuracy + 0.1


@pytest.mark.parametrize("seed", range(5))
def test_dropout_reaches_a_lower_test_loss_than_the_baseline(seed: int) -> None:
    """Standard dropout at its registry default p = 0.5 against the same network without it
    (see the module docstring for the figures and the choice of margin)."""
    setup = TrainingSetup("standard", seed=seed)
    assert setup.method_params["p"] == 0.5
    last = final(setup)
    assert last.baseline.test_loss >= 1.5 * last.dropout.test_loss, last
    assert last.baseline.test_loss - last.dropout.test_loss >= 0.5, last


def test_trained_network_is_the_runs_dropout_network_memoised() -> None:
    setup = TrainingSetup("standard", **FAST)
    network = trained_network(setup)
    assert trained_network(setup) is network
    assert network.activation == "relu" and len(network.layers) == 3
    assert [tuple(w.shape) for w, _ in network.layers] == [(64, 2), (64, 64), (2, 64)]
    # its eval-mode forward (inverted dropout: the identity) gives the run's last test loss
    data = training_data(setup)
    h = data.x_test
    for index, (weight, bias) in enumerate(network.layers):
        h = F.linear(h, weight, bias)
        h = torch.relu(h) if index < len(network.layers) - 1 else h
    last = list(train(setup))[-1]
    assert math.isclose(float(F.cross_entropy(h, data.y_test)), last.dropout.test_loss,
                        rel_tol=1e-5)  # fmt: skip
    assert trained_network(TrainingSetup("alpha", **FAST)).activation == "selu"
    standout = trained_network(TrainingSetup("standout", **FAST))
    assert len(standout.layers) == 3


# ---------------------------------------------------------------- the API


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


def assert_error(response: Any, status: int, field: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"field", "message", "allowed"}
    assert error["field"] == field, error
    assert error["message"] and error["allowed"]
    return error


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("method=cutout", "method"),
        ("method=nonsense", "method"),
        ("", "method"),
        ("method=standard&p=2", "p"),
        ("method=standard&p=x", "p"),
        ("method=standard&scaling=sideways", "scaling"),
        ("method=gaussian&sigma=9", "sigma"),
        ("method=standard&dataset=swiss", "dataset"),
        ("method=standard&noise=-1", "noise"),
        ("method=standard&n_train=5", "n_train"),
        ("method=standard&train_width=1000", "train_width"),
        ("method=standard&train_depth=9", "train_depth"),
        ("method=standard&steps=10", "steps"),
        ("method=standard&lr=1", "lr"),
        ("method=standard&seed=-1", "seed"),
        ("method=standard&typo=1", "typo"),
        ("method=dropconnect&n_train=1000&train_width=256", "n_train"),
    ],
)
def test_bad_queries_are_4xx_json_naming_the_field(
    client: TestClient, query: str, field: str
) -> None:
    error = assert_error(client.get(f"/api/train?{query}"), 422, field)
    if field == "method":  # without view: the methods of a view that trains (the dense view's…)
        allowed = error["allowed"].split(", ")
        assert {"standard", "gaussian", "alpha", "dropconnect", "standout"} <= set(allowed)
        assert "cutout" not in allowed and "nonsense" not in allowed
    assert client.get("/api/train/runs").json()["training"] == 0  # nothing was started


def test_the_stream_is_info_then_snapshots_then_done(client: TestClient) -> None:
    query = (
        "method=standard&p=0.4&view=dense&network=trained&dataset=xor&steps=100&n_train=30&seed=5"
    )
    with client.stream("GET", f"/api/train?{query}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response.iter_lines())
    kinds = [kind for kind, _ in events]
    setup = TrainingSetup("standard", (("p", 0.4),), dataset="xor", steps=100, n_train=30, seed=5)
    steps = list(snapshot_steps(setup))
    assert kinds == ["info"] + ["snapshot"] * len(steps) + ["done"]
    info = events[0][1]
    assert info["method"] == "standard" and info["seed"] == 5
    assert info["params"] == {"p": 0.4, "scaling": "inverted"}
    assert info["training"] == setup.view_params()
    assert info["snapshot_steps"] == steps and info["steps"] == 100 and info["grid"] == GRID
    data = training_data(setup)
    assert info["extent"] == list(data.extent)
    assert len(info["train"]["x"]) == len(info["train"]["y"]) == 30
    assert len(info["test"]["x"]) == len(info["test"]["y"]) == N_TEST
    assert info["train"]["y"] == data.y_train.tolist()
    assert info["train"]["x"][0] == pytest.approx(data.x_train[0].tolist(), abs=1e-4)
    snapshots = [payload for kind, payload in events if kind == "snapshot"]
    assert [s["step"] for s in snapshots] == steps
    expected = list(train(setup))  # the server's run is the library's run
    for sent, snapshot in zip(snapshots, expected, strict=True):
        for name in ("dropout", "baseline"):
            shot = sent[name]
            ours = getattr(snapshot, name)
            assert shot["test_loss"] == pytest.approx(ours.test_loss, abs=1e-4)
            assert shot["train_accuracy"] == pytest.approx(ours.train_accuracy, abs=1e-4)
            assert len(shot["boundary"]) == GRID and all(len(r) == GRID for r in shot["boundary"])
            percent = torch.tensor(shot["boundary"], dtype=torch.float64)  # whole percents
            assert float((percent / 100 - ours.boundary.double()).abs().max()) <= 0.0051
    assert snapshots[0]["dropout"]["objective"] is None
    assert events[-1] == ("done", {"step": 100})
    assert client.get("/api/train/runs").json() == {"training": 0, "limit": 2}


def test_past_the_bound_the_answer_is_503_with_retry_after(tmp_path: Path) -> None:
    app = create_app(Settings(upload_dir=tmp_path, max_training_runs=0))
    with TestClient(app, raise_server_exceptions=False) as busy:
        response = busy.get("/api/train?method=standard")
        assert_error(response, 503, "training")
        assert int(response.headers["retry-after"]) >= 1
        assert_error(busy.get("/api/train?method=standard&p=7"), 422, "p")  # checked first
        assert busy.get("/api/train/runs").json() == {"training": 0, "limit": 0}


def test_the_run_counter_is_bounded_and_a_slot_is_freed_once() -> None:
    runs = TrainingRuns(2)
    first, second = runs.acquire(), runs.acquire()
    assert first is not None and second is not None and runs.acquire() is None
    first.release()
    first.release()
    assert runs.active == 1
    assert runs.acquire() is not None and runs.active == 2


# ---------------------------------------------------------------- a real server


# A long run within the training budget (about 17 s: dropouts.lab.budget).
LONG_RUN = "method=standard&steps=400&n_train=1000&train_width=256&train_depth=4"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("uploads")) as url:
        yield url


def running(url: str) -> int:
    count: int = httpx.get(f"{url}/api/train/runs", timeout=5).json()["training"]
    return count


def wait_until_idle(url: str, within_s: float = 5.0) -> float:
    start = time.monotonic()
    while running(url) != 0:
        assert time.monotonic() - start < within_s, "the runs did not stop"
        time.sleep(0.05)
    return time.monotonic() - start


def read_events(lines: Iterator[str], count: int) -> list[tuple[str, float]]:
    """The next ``count`` event names of an event stream, with the seconds each took to come.

    ``lines`` must stay referenced while the stream should stay open: an abandoned line
    iterator closes its connection (which is how a page that goes away looks to the server)."""
    start = time.monotonic()
    events: list[tuple[str, float]] = []
    for line in lines:
        if line.startswith("event:"):
            events.append((line.split(":", 1)[1].strip(), time.monotonic() - start))
            if len(events) == count:
                break
    return events


def test_info_comes_first_and_fast_and_the_run_stops_when_the_client_goes_away(
    live: str,
) -> None:
    with (
        httpx.Client(timeout=30) as http,
        http.stream("GET", f"{live}/api/train?{LONG_RUN}") as response,
    ):
        assert response.status_code == 200
        lines = response.iter_lines()
        (first, first_s), (second, _) = read_events(lines, 2)
        assert first == "info" and second == "snapshot"
        assert first_s < 2.0  # the target is 200 ms; loose here, measured in make bench
        assert running(live) == 1
        time.sleep(0.3)
        assert running(live) == 1  # still training while the client listens
    # the client went away mid-run (400 steps of a 2-256x4-2 network on 1000 points)
    wait_until_idle(live)


def test_a_real_server_trains_at_most_two_runs_at_once(live: str) -> None:
    with httpx.Client(timeout=30) as http:
        streams = [http.stream("GET", f"{live}/api/train?{LONG_RUN}&seed={k}") for k in (1, 2)]
        responses = [stream.__enter__() for stream in streams]
        try:
            lines = [response.iter_lines() for response in responses]
            for stream_lines in lines:
                assert read_events(stream_lines, 1)[0][0] == "info"
            assert running(live) == 2
            refused = http.get(f"{live}/api/train?method=standard&seed=4242")  # not trained
            assert_error(refused, 503, "training")
            assert refused.headers["retry-after"] == "2"
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
    wait_until_idle(live)
    assert httpx.get(f"{live}/api/train?method=standard&steps=50", timeout=30).status_code == 200
