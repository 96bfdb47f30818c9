"""Monte Carlo dropout's uncertainty view: the library (:mod:`dropouts.lab.uncertainty`, the view
:mod:`dropouts.lab.views.uncertainty`) and its API (``/api/frames?view=uncertainty``,
``GET /api/train/uncertainty``).

The issue's three claims, checked on the trained default: the band is wider far from the data
than inside it; the mean over T passes converges to the exact expectation (a network small
enough to enumerate every mask); the predictive entropy is highest between the classes. Then
the batched passes against the module's own forward, the pitfall of BatchNorm in training
mode, τ, the nesting of passes in T, the memoised training and the event stream.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from app.config import Settings
from app.main import create_app
from dropouts import mc
from dropouts.lab import uncertainty as U
from dropouts.lab.flights import TrainingCancelledError
from dropouts.lab.registry import (
    ParamError,
    get_method,
    get_view,
    validate_params,
    validate_view_params,
)
from dropouts.lab.views import BUILT
from dropouts.lab.views.uncertainty import PROBES, display_bytes
from dropouts.modules import Dropout

VIEW = BUILT["uncertainty"]


def params(**given: Any) -> dict[str, Any]:
    method = {k: v for k, v in given.items() if k in ("p", "T")}
    view = {k: v for k, v in given.items() if k not in method}
    return validate_params(get_method("mc_dropout"), method) | validate_view_params(
        get_view("uncertainty"), view
    )


@pytest.fixture(scope="module")
def regression() -> U.TrainedModel:
    return U.trained_model(U.UncertaintySetup())


@pytest.fixture(scope="module")
def classification() -> U.TrainedModel:
    return U.trained_model(U.UncertaintySetup(task="classification"))


# ---------------------------------------------------------------- the claims


def test_the_band_is_wider_far_from_the_data_than_inside_it(regression: U.TrainedModel) -> None:
    """The trained default, 2000 passes, τ⁻¹ included: the predictive sd at least 1.5 times
    larger (on average) at points 1 or more from every training point than at points within
    0.1 of one; in the gap (0.5 or more from the data) still larger than inside the data.
    (Dropout widens far more beyond the data than between its two clusters: measured on seeds
    0-5, 2.0-4.3 times against 1.1-1.3 times.)"""
    setup = regression.setup
    tau = U.tau(setup.p, 0.3, setup.n_train, setup.weight_decay)
    masks = U.draw_masks(regression.network, 2000, torch.Generator().manual_seed(1))
    outputs = U.sample_passes(regression.network, regression.data.grid, masks)
    std = U.predict(outputs, "regression", tau).std
    grid = regression.data.grid
    distance = torch.cdist(grid, regression.data.x_train).min(dim=1).values
    inside = float(std[distance <= 0.1].mean())
    far = float(std[distance >= 1.0].mean())
    gap = float(std[(distance >= 0.5) & (grid[:, 0].abs() < 1)].mean())
    print(f"\npredictive sd: inside {inside:.3f}, gap {gap:.3f}, far {far:.3f}")
    assert far > 1.5 * inside
    assert gap > inside
    assert float(std.min()) >= (1 / tau) ** 0.5 - 1e-6  # never below the noise τ⁻¹


def test_the_views_frame_reports_the_same_widening(regression: U.TrainedModel) -> None:
    chosen = params()
    theory = VIEW.theory("mc_dropout", chosen, VIEW.scene(None), seed=0)
    assert theory.model is regression  # the memoised network
    frame = VIEW.frame("mc_dropout", chosen, 0, 3, VIEW.scene(None), theory)
    assert frame.stats["std_beyond"] > frame.stats["std_data"]
    assert frame.stats["std_gap"] > frame.stats["std_data"]
    probe_std = frame.stats["probe_std"]
    assert probe_std[PROBES.index(0.0)] > probe_std[PROBES.index(2.0)]


def tiny_network(p: float) -> nn.Sequential:
    """1 -> 3 -> 3 -> 1 with BatchNorm (running statistics made up): 6 dropout units."""
    setup = U.UncertaintySetup(p=p, width=3, steps=100, seed=3)
    network = U.build_network(setup)
    generator = torch.Generator().manual_seed(11)
    for module in network:
        if isinstance(module, nn.BatchNorm1d):
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.copy_(torch.randn(3, generator=generator))
            module.running_var.copy_(torch.rand(3, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(3, generator=generator) + 0.5)
    return network.eval()


def exact_expectation(network: nn.Sequential, x: torch.Tensor, p: float) -> torch.Tensor:
    """The output averaged over all 2^6 masks, each weighted by its probability."""
    patterns = torch.tensor(list(itertools.product((0, 1), repeat=6)), dtype=torch.bool)
    masks = [patterns[:, :3], patterns[:, 3:]]
    kept = patterns.sum(dim=1).double()
    weight = (1 - p) ** kept * p ** (6 - kept)
    assert float(weight.sum()) == pytest.approx(1.0)
    outputs = U.sample_passes(network, x, masks)[..., 0].double()
    return (weight[:, None] * outputs).sum(dim=0)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_the_mean_over_t_passes_converges_to_the_exact_expectation(p: float) -> None:
    """Within 4 standard errors at every point, for the batched passes (a mask per pass) and
    for dropouts.mc.mc_predict's loop over the module (a mask per example and pass); and the
    error shrinks as T grows."""
    network = tiny_network(p)
    x = torch.linspace(-4, 4, 9)[:, None]
    exact = exact_expectation(network, x, p)
    T = 20_000
    samples = U.sample_passes(
        network, x, U.draw_masks(network, T, torch.Generator().manual_seed(5))
    )[..., 0].double()
    error = (samples.mean(dim=0) - exact).abs()
    bound = 4 * samples.std(dim=0) / T**0.5 + 1e-9
    assert bool((error <= bound).all()), (error, bound)
    early = (samples[:200].mean(dim=0) - exact).abs().mean()
    assert float(error.mean()) < float(early)
    looped = mc.mc_predict(network, x, T=4000, seed=2)
    bound_loop = 4 * looped.std[:, 0].double() / 4000**0.5 + 1e-9
    assert bool(((looped.mean[:, 0].double() - exact).abs() <= bound_loop).all())


def test_predictive_entropy_is_highest_between_the_classes(
    classification: U.TrainedModel,
) -> None:
    chosen = params(task="classification", T=200)
    theory = VIEW.theory("mc_dropout", chosen, VIEW.scene(None), seed=0)
    assert theory.model is classification
    frame = VIEW.frame("mc_dropout", chosen, 0, 0, VIEW.scene(None), theory)
    stats = frame.stats
    print(f"\nentropy: {stats}")
    assert stats["entropy_between"] > stats["entropy_data"]
    assert stats["entropy_between"] > stats["entropy_far"]
    assert stats["entropy_between"] > 0.5 * theory.json["max_entropy"]
    # The model's part (mutual information) is larger far from the data than on it.
    assert stats["mutual_information_far"] > stats["mutual_information_data"]
    regions = theory.json["regions"]
    assert regions["between"]["reference_entropy"] == max(
        regions[name]["reference_entropy"] for name in ("data", "between", "far")
    )


# ---------------------------------------------------------------- the passes


def with_masks(network: nn.Sequential, masks: list[torch.Tensor], t: int) -> nn.Sequential:
    """A copy of ``network`` whose dropout layers multiply by pass ``t``'s masks / (1 - p)."""

    class Fixed(nn.Module):
        def __init__(self, mask: torch.Tensor, p: float) -> None:
            super().__init__()
            self.factor = mask.float() / (1 - p)

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return h * self.factor

    layers, index = [], 0
    for module in network:
        if isinstance(module, Dropout):
            layers.append(Fixed(masks[index][t], module.p))
            index += 1
        else:
            layers.append(module)
    return nn.Sequential(*layers)


@pytest.mark.parametrize("points", [200, 3])  # masks folded into weights, or into the inputs
def test_the_batched_passes_are_the_modules_forward_with_the_same_masks(
    regression: U.TrainedModel, points: int
) -> None:
    network = regression.network
    x = torch.linspace(-4.5, 4.5, points)[:, None]
    masks = U.draw_masks(network, 7, torch.Generator().manual_seed(0))
    batched = U.sample_passes(network, x, masks)
    assert batched.shape == (7, points, 1)
    with torch.no_grad():
        for t in range(7):
            looped = with_masks(network, masks, t).eval()(x)
            torch.testing.assert_close(batched[t], looped, rtol=1e-5, atol=1e-5)
    deterministic = U.deterministic(network, x)
    with torch.no_grad():
        torch.testing.assert_close(deterministic, network.eval()(x), rtol=1e-5, atol=1e-5)


def test_batch_norm_in_training_mode_is_model_train_and_changes_nothing(
    regression: U.TrainedModel,
) -> None:
    network = regression.network
    x = regression.data.grid
    masks = U.draw_masks(network, 4, torch.Generator().manual_seed(9))
    before = [b.clone() for b in network.buffers()]
    wrong = U.sample_passes(network, x, masks, batch_norm="train")
    for t in range(4):
        copied = copy.deepcopy(with_masks(network, masks, t)).train()
        with torch.no_grad():
            torch.testing.assert_close(wrong[t], copied(x), rtol=1e-4, atol=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(before, network.buffers(), strict=True))
    right = U.sample_passes(network, x, masks)
    assert float((wrong - right).abs().mean()) > 0.05  # the pitfall shows


def test_pass_t_does_not_depend_on_the_number_of_passes(regression: U.TrainedModel) -> None:
    few = U.draw_masks(regression.network, 10, torch.Generator().manual_seed(4))
    many = U.draw_masks(regression.network, 300, torch.Generator().manual_seed(4))
    assert all(torch.equal(a, b[:10]) for a, b in zip(few, many, strict=True))
    masks = torch.cat(many, dim=1)
    assert abs(float(1 - masks.float().mean()) - 0.1) < 4 * (0.1 * 0.9 / masks.numel()) ** 0.5
    assert not torch.equal(many[0][0], many[0][1])  # fresh masks per pass


def test_with_p_zero_every_pass_is_the_same_and_the_variance_is_tau_inverse() -> None:
    model = U.trained_model(U.UncertaintySetup(p=0.0, steps=100))
    masks = U.draw_masks(model.network, 20, torch.Generator().manual_seed(0))
    outputs = U.sample_passes(model.network, model.data.grid, masks)
    prediction = U.predict(outputs, "regression", 50.0)
    torch.testing.assert_close(prediction.variance, torch.full_like(prediction.variance, 1 / 50))


def test_tau_is_gals_with_the_keep_probability() -> None:
    assert U.tau(0.1, 0.3, 40, 1e-5) == pytest.approx(0.9 * 0.09 / (2 * 40 * 1e-5))
    assert U.tau(0.0, 1.0, 10, 0.5) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        U.tau(1.0, 1.0, 10, 0.5)


def test_running_estimate_ends_at_the_full_estimate() -> None:
    samples = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    mean, variance = U.running_estimate(samples)
    torch.testing.assert_close(mean[-1], samples.double().mean(dim=0))
    torch.testing.assert_close(variance[-1], samples.double().var(dim=0, unbiased=False))
    assert bool((variance[0] == 0).all())


def test_display_bytes_are_what_the_wire_decodes() -> None:
    values = torch.rand(2, 4, 5, generator=torch.Generator().manual_seed(0))
    shown = display_bytes(values).tensor
    assert float((shown - values.double()).abs().max()) <= values.max().item() / 510 + 1e-12
    steps = shown / shown.amax(dim=(1, 2), keepdim=True) * 255
    torch.testing.assert_close(steps, steps.round())


# ---------------------------------------------------------------- the setup and training


def test_the_setup_validates_and_reads_the_registry() -> None:
    setup = U.UncertaintySetup.from_params(
        {"p": 0.2, "T": 7, "task": "classification", "n_train": 30, "log_weight_decay": -4.0},
        seed=3,
    )
    assert (setup.task, setup.p, setup.n_train, setup.seed) == ("classification", 0.2, 30, 3)
    assert setup.weight_decay == pytest.approx(1e-4)
    assert setup.width == U.WIDTHS["classification"]
    # T and the length-scale change the passes, not the network.
    assert U.UncertaintySetup.from_params({"T": 9, "lengthscale": 2.0}) == U.UncertaintySetup()
    with pytest.raises(ParamError) as error:
        U.UncertaintySetup(p=1.0)
    assert error.value.field == "p"
    with pytest.raises(ParamError) as error:
        U.UncertaintySetup.from_params({"n_train": 5})
    assert error.value.field == "n_train"


def test_training_is_deterministic_and_memoised() -> None:
    setup = U.UncertaintySetup(steps=100, seed=8)
    first, second = U.train(setup), U.train(setup)
    for a, b in zip(
        first.network.state_dict().values(), second.network.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert [s.test_loss for s in first.history] == [s.test_loss for s in second.history]
    assert [s.step for s in first.history] == list(U.snapshot_steps(setup))
    assert U.trained_model(setup) is U.trained_model(setup)
    other = U.train(U.UncertaintySetup(steps=100, seed=9))
    assert not torch.equal(other.data.x_train, first.data.x_train)


def test_concurrent_callers_of_a_setting_wait_for_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = U.UncertaintySetup(steps=300, seed=12345)
    calls: list[int] = []
    real = U.train

    def counting(*args: Any, **kwargs: Any) -> U.TrainedModel:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(U, "train", counting)
    results: list[U.TrainedModel] = []
    threads = [
        threading.Thread(target=lambda: results.append(U.trained_model(setup))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results[0] is results[1] is results[2]


def test_a_cancelled_run_is_not_cached_and_a_cached_one_replays() -> None:
    setup = U.UncertaintySetup(steps=200, seed=777)
    with pytest.raises(TrainingCancelledError):
        U.trained_model(setup, cancelled=lambda: True)
    seen: list[int] = []
    model = U.trained_model(setup, progress=lambda s: seen.append(s.step))
    assert seen == list(U.snapshot_steps(setup))  # trained now, live
    replayed: list[int] = []
    assert U.trained_model(setup, progress=lambda s: replayed.append(s.step)) is model
    assert replayed == seen


def test_frames_depend_on_their_arguments_only() -> None:
    chosen = params(T=20)
    scene = VIEW.scene(None)
    theory = VIEW.theory("mc_dropout", chosen, scene, seed=2)
    alone = VIEW.frame("mc_dropout", chosen, 2, 5, scene, theory)
    batch = VIEW.frames("mc_dropout", chosen, 2, range(3, 7), scene, theory)
    assert alone.stats == batch[2].stats
    assert alone.stats != batch[0].stats
    other = VIEW.theory("mc_dropout", chosen, scene, seed=3)
    assert other.json["train"] != theory.json["train"]  # the seed decides the data too


# ---------------------------------------------------------------- the API


def frames(client: TestClient, **query: Any) -> dict[str, Any]:
    base = {"view": "uncertainty", "method": "mc_dropout", "format": "json"}
    response = client.get("/api/frames", params=base | query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_frames_of_both_tasks(client: TestClient) -> None:
    body = frames(client, start=4, count=2)
    theory = body["theory"]
    assert theory["task"] == "regression" and theory["T"] == 50
    assert theory["tau"] == pytest.approx(U.tau(0.1, 0.3, 40, 1e-5))
    frame = body["frames"][0]
    assert frame["iteration"] == 4
    assert frame["passes"]["encoding"] == "bytes" and frame["passes"]["shape"] == [1, 50, U.GRID]
    assert len(frame["band"]["value"]["mean"]) == U.GRID
    assert len(frame["running"]["value"]["std"][0]) == 50
    assert 0.0 < frame["dropped_fraction"] < 0.3
    body = frames(client, task="classification", T=30)
    frame = body["frames"][0]
    assert frame["maps"]["shape"] == [3, U.CLASS_GRID, U.CLASS_GRID]
    assert frame["batch_norm_train"]["shape"] == [1, U.CLASS_GRID, U.CLASS_GRID]
    assert body["theory"]["tau"] is None


def test_a_larger_t_adds_passes_to_the_same_draw(client: TestClient) -> None:
    few = frames(client, T=10, start=7)["frames"][0]
    many = frames(client, T=100, start=7)["frames"][0]
    assert few["band"] != many["band"]
    assert few["probe_mean"] != many["probe_mean"]
    # The first pass is the same curve (up to each frame's quantisation to 256 steps).
    first = [json.loads(json.dumps(f["passes"])) for f in (few, many)]
    assert all(item["shape"][2] == U.GRID for item in first)


def test_statistics_only_frames_for_the_series(client: TestClient) -> None:
    body = frames(client, count=100, masks="false")
    assert len(body["frames"]) == 100
    assert "passes" not in body["frames"][0] and "probe_std" in body["frames"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"p": "1"}, "p"),
        ({"T": "0"}, "T"),
        ({"task": "ranking"}, "task"),
        ({"n_train": "5"}, "n_train"),
        ({"log_weight_decay": "0"}, "log_weight_decay"),
        ({"map": "edge_0"}, "map"),
        ({"method": "standard"}, "method"),
    ],
)
def test_bad_frames_queries_name_the_field(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    response = client.get(
        "/api/frames", params={"view": "uncertainty", "method": "mc_dropout"} | query
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def sse(lines: Iterator[str]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    kind: str | None = None
    data: list[str] = []
    for line in lines:
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and kind is not None:
            events.append((kind, json.loads("".join(data))))
            kind, data = None, []
    return events


def test_the_stream_is_info_then_snapshots_then_done_of_the_views_network(
    client: TestClient,
) -> None:
    query = "method=mc_dropout&p=0.2&T=5&steps=200&n_train=30&seed=6"
    with client.stream("GET", f"/api/train/uncertainty?{query}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response.iter_lines())
    setup = U.UncertaintySetup(p=0.2, steps=200, n_train=30, seed=6)
    steps = list(U.snapshot_steps(setup))
    assert [kind for kind, _ in events] == ["info"] + ["snapshot"] * len(steps) + ["done"]
    info = events[0][1]
    assert info["task"] == "regression" and info["seed"] == 6 and info["steps"] == 200
    assert info["tau"] == pytest.approx(U.tau(0.2, 0.3, 30, 1e-5))
    assert len(info["train"]["x"]) == 30 and len(info["grid"]) == U.GRID
    snapshots = [payload for kind, payload in events if kind == "snapshot"]
    assert [s["step"] for s in snapshots] == steps
    assert snapshots[0]["objective"] is None and len(snapshots[-1]["mean"]) == U.GRID
    # The frames of this setting use the network the stream trained (memoised, not retrained).
    model = U.trained_model(setup)
    assert snapshots[-1]["test_loss"] == pytest.approx(model.history[-1].test_loss, abs=1e-4)
    body = frames(client, p=0.2, T=5, steps=200, n_train=30, seed=6)
    assert body["theory"]["training"]["test_loss"] == pytest.approx(snapshots[-1]["test_loss"])
    assert events[-1] == ("done", {"step": 200})


def test_a_classification_stream_sends_boundaries(client: TestClient) -> None:
    query = "task=classification&steps=100&seed=2"
    with client.stream("GET", f"/api/train/uncertainty?{query}") as response:
        events = sse(response.iter_lines())
    info = events[0][1]
    assert info["grid"] == U.CLASS_GRID and len(info["extent"]) == 4
    last = [payload for kind, payload in events if kind == "snapshot"][-1]
    assert len(last["boundary"]) == U.CLASS_GRID and last["test_accuracy"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("method=standard", "method"),
        ("method=nonsense", "method"),
        ("p=1", "p"),
        ("task=ranking", "task"),
        ("steps=10", "steps"),
        ("seed=-1", "seed"),
        ("typo=1", "typo"),
    ],
)
def test_bad_stream_queries_are_4xx_json_naming_the_field(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/api/train/uncertainty?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["field"] == field


def test_past_the_bound_the_stream_is_503_with_retry_after(tmp_path: Path) -> None:
    app = create_app(Settings(upload_dir=tmp_path, max_training_runs=0))
    with TestClient(app, raise_server_exceptions=False) as busy:
        # A setting this process has not trained (a remembered run replays without training).
        response = busy.get("/api/train/uncertainty?seed=98765")
        assert response.status_code == 503 and response.json()["error"]["field"] == "training"
        assert int(response.headers["retry-after"]) >= 1
        assert busy.get("/api/train/uncertainty?p=7").status_code == 422  # checked first
