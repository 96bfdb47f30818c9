"""The residual view (dropouts.lab.views.residual): DropPath on a stack of residual blocks.

Its gates are the library's drop_path masks for the frame's generator: the dropped fraction of
each block matches its survival probability (binomial bounds, 4 standard errors: a false alarm
about once in 16,000 runs per check, on seeded generators), a sample per gate in row mode and
one gate for the batch in batch mode; the measured depth has the expected depth Σ s_l; each
block is unbiased (the mean over many passes of a one-block stack is the test-time network);
the test-time network is the identity rule; frames are deterministic. Then the view over HTTP and
its errors (the exports: test_export_residual.py).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from stats import assert_binomial_fraction, assert_mean

from app.config import Settings
from app.images import ImageStore
from dropouts import functional as F
from dropouts.lab.registry import (
    ParamValue,
    get_method,
    get_view,
    methods_with_view,
    validate_params,
    validate_view_params,
)
from dropouts.lab.views import BUILT, views_of
from dropouts.lab.views.base import JsonArray, Scene, frame_generator
from dropouts.lab.views.features import run_stage
from dropouts.lab.views.residual import RESIDUAL_METHODS, VIEW
from dropouts.lab.views.residual_network import branch, draw_gates, forward, network
from dropouts.lab.views.residual_samples import MAX_BATCH, SIDE, choose_samples


def picture(name: str = "cat") -> torch.Tensor:
    """The sample picture as the server holds it."""
    return ImageStore(Settings()).get(name).tensor


@pytest.fixture(scope="module")
def scene() -> Scene:
    return VIEW.scene(picture())


def params(**given: object) -> dict[str, ParamValue]:
    own = {p.name for p in get_view("residual").params}
    method = {k: str(v) for k, v in given.items() if k not in own}
    view = {k: str(v) for k, v in given.items() if k in own}
    return validate_params(get_method("droppath"), method) | validate_view_params(
        get_view("residual"), view
    )


def gates_of(frame: Any) -> torch.Tensor:
    array = frame.arrays["gates"]
    assert isinstance(array, JsonArray)
    return torch.tensor(array.value, dtype=torch.float64)


def samples_of(frame: Any) -> list[dict[str, Any]]:
    array = frame.arrays["samples"]
    assert isinstance(array, JsonArray)
    value: list[dict[str, Any]] = array.value
    return value


def frames(scene: Scene, count: int, seed: int = 0, **given: object) -> list[Any]:
    setting = params(**given)
    theory = VIEW.theory("droppath", setting, scene)
    return VIEW.frames("droppath", setting, seed, range(count), scene, theory)


# ---------------------------------------------------------------- the registry


def test_the_view_shows_droppath_and_is_built() -> None:
    assert tuple(m.id for m in methods_with_view("residual")) == RESIDUAL_METHODS
    assert BUILT["residual"] is VIEW
    assert views_of("droppath", get_method("droppath").views) == ("residual",)
    names = [p.name for p in get_view("residual").params]
    assert names == ["blocks", "batch", "rule"]
    assert not set(names) & {p.name for p in get_method("droppath").params}  # no duplicates
    assert get_view("residual").params[1].max == MAX_BATCH


# ---------------------------------------------------------------- the gates


@pytest.mark.parametrize("rule", ["linear", "constant"])
def test_row_mode_drops_each_block_as_often_as_its_survival_says(scene: Scene, rule: str) -> None:
    iterations, batch, blocks, p = 300, 16, 8, 0.5
    drawn = frames(scene, iterations, seed=3, p=p, batch=batch, blocks=blocks, rule=rule)
    gates = torch.stack([gates_of(frame) for frame in drawn])  # (iterations, batch, blocks)
    survival = F.stochastic_depth_survival(blocks, p, rule=rule)  # type: ignore[arg-type]
    for block, s in enumerate(survival):
        dropped = int((gates[:, :, block] == 0).sum())
        assert_binomial_fraction(dropped, iterations * batch, 1.0 - s)
    # Each frame's dropped fraction is the share of its zero gates.
    for frame, g in zip(drawn, gates, strict=True):
        assert frame.stats["dropped_fraction"] == pytest.approx(float((g == 0).double().mean()))
        kept = [float(v) for v in (g != 0).double().mean(dim=0)]
        assert frame.stats["kept_per_block"] == pytest.approx(kept)


def test_batch_mode_drops_each_block_for_the_whole_batch_as_often_as_its_survival_says(
    scene: Scene,
) -> None:
    iterations, blocks, p = 1500, 6, 0.6
    drawn = frames(scene, iterations, seed=4, p=p, mode="batch", batch=2, blocks=blocks)
    gates = torch.stack([gates_of(frame) for frame in drawn])
    assert bool((gates[:, 0] == gates[:, 1]).all())  # one gate per block for the batch
    for block, s in enumerate(F.stochastic_depth_survival(blocks, p)):
        assert_binomial_fraction(int((gates[:, 0, block] == 0).sum()), iterations, 1.0 - s)


def test_row_mode_differs_across_samples_batch_mode_does_not(scene: Scene) -> None:
    """At s = 1/2 on 8 blocks, 8 rows are all equal with probability (2 / 2^8)^7 per frame."""
    for frame in frames(scene, 20, p=0.5, rule="constant"):
        rows = gates_of(frame)
        assert any(not torch.equal(rows[0], row) for row in rows[1:]), frame.iteration
    for frame in frames(scene, 20, p=0.5, rule="constant", mode="batch"):
        rows = gates_of(frame)
        assert all(torch.equal(rows[0], row) for row in rows[1:]), frame.iteration
    # Not all frames alike in batch mode either: the gates change between iterations.
    patterns = {tuple(gates_of(f)[0].tolist()) for f in frames(scene, 20, p=0.5, mode="batch")}
    assert len(patterns) > 1


def test_gates_are_drop_paths_masks_for_the_frames_generator(scene: Scene) -> None:
    setting = params(p=0.4, batch=5, blocks=7)
    theory = VIEW.theory("droppath", setting, scene)
    frame = VIEW.frame("droppath", setting, 11, 6, scene, theory)
    generator = frame_generator(11, 6)
    survival = F.stochastic_depth_survival(7, 0.4)
    for block, s in enumerate(survival):
        _, mask = F.drop_path(  # type: ignore[misc]
            torch.ones(5, 1), 1.0 - s, generator=generator, return_mask=True
        )
        column = gates_of(frame)[:, block]
        torch.testing.assert_close(column, mask[:, 0].double())
        # A kept branch is multiplied by exactly 1 / s_l (inverted scaling), a dropped one by 0.
        kept = column[column != 0]
        torch.testing.assert_close(kept, torch.full_like(kept, 1.0 / s), rtol=1e-6, atol=0)


def test_frames_are_deterministic_and_addressable(scene: Scene) -> None:
    setting = params(p=0.5)
    theory = VIEW.theory("droppath", setting, scene)
    run = VIEW.frames("droppath", setting, 9, range(6), scene, theory)
    alone = VIEW.frame("droppath", setting, 9, 4, scene, theory)
    again = VIEW.frame("droppath", setting, 9, 4, scene, VIEW.theory("droppath", setting, scene))
    for frame in (alone, again):
        assert frame.stats == run[4].stats
        assert gates_of(frame).tolist() == gates_of(run[4]).tolist()
        assert samples_of(frame) == samples_of(run[4])
    other_seed = VIEW.frame("droppath", setting, 10, 4, scene, theory)
    assert gates_of(other_seed).tolist() != gates_of(run[4]).tolist()
    assert gates_of(run[3]).tolist() != gates_of(run[4]).tolist()


# ---------------------------------------------------------------- depth and the test-time rule


@pytest.mark.parametrize(
    ("rule", "blocks", "p"),
    [("linear", 8, 0.2), ("linear", 16, 0.5), ("constant", 5, 0.3), ("linear", 1, 0.9)],
)
def test_expected_depth_is_huangs_formula_and_the_measured_depth_follows_it(
    scene: Scene, rule: str, blocks: int, p: float
) -> None:
    theory = VIEW.theory_json(VIEW.theory("droppath", params(rule=rule, blocks=blocks, p=p), scene))
    formula = blocks - p * (blocks + 1) / 2 if rule == "linear" else blocks * (1 - p)
    assert theory["expected_depth"] == pytest.approx(formula)
    survival = F.stochastic_depth_survival(blocks, p, rule=rule)  # type: ignore[arg-type]
    assert theory["survival"] == pytest.approx(list(survival))
    assert theory["depth_sd"] == pytest.approx(math.sqrt(sum(s * (1 - s) for s in survival)))
    assert theory["expected_dropped_fraction"] == pytest.approx(1 - formula / blocks)
    # The depth of 200 iterations x 8 samples (independent in row mode) against it.
    drawn = frames(scene, 200, seed=1, rule=rule, blocks=blocks, p=p)
    depths = torch.tensor([s["depth"] for f in drawn for s in samples_of(f)], dtype=torch.float64)
    assert_mean(depths, formula)
    for frame in drawn:
        per_sample = [s["depth"] for s in samples_of(frame)]
        assert frame.stats["depth_mean"] == pytest.approx(sum(per_sample) / len(per_sample))
        assert frame.stats["depth_first"] == per_sample[0]
        assert per_sample == [int(v) for v in (gates_of(frame) != 0).sum(dim=1)]


def test_the_test_time_network_is_every_branch_unscaled(scene: Scene) -> None:
    """Identity at test time: each block is H + drop_path(f(H), training=False) = H + f(H)."""
    setting = params(p=0.5, blocks=6, batch=4)
    theory = VIEW.theory("droppath", setting, scene)
    h = scene.data.inputs[:4]
    for block, s in zip(network(6), theory.survival, strict=True):
        h = h + F.drop_path(branch(block, h), 1.0 - s, training=False)  # type: ignore[operator]
    assert torch.equal(theory.test, h)
    assert VIEW.theory_json(theory)["test_factor"] == 1.0
    # A pass that keeps every branch unscaled is the test network, exactly.
    assert torch.equal(forward(network(6), scene.data.inputs[:4], torch.ones(4, 6)), theory.test)


def test_each_block_is_unbiased_the_mean_pass_is_the_test_network(scene: Scene) -> None:
    """One block: E[H + (b / s) f(H)] = H + f(H), elementwise (4 standard errors)."""
    passes, s = 3000, 0.6
    x = scene.data.inputs[:1].double()
    stack = tuple(type(block)(block.first.double(), block.second.double()) for block in network(1))
    gates = draw_gates((s,), passes, "row", torch.Generator().manual_seed(5))
    outputs = forward(stack, x.expand(passes, -1, -1, -1), gates.double())
    test = forward(stack, x, None)[0]
    torch.testing.assert_close(
        outputs[gates[:, 0] == 0], x.expand(int((gates == 0).sum()), -1, -1, -1)
    )
    assert_mean(outputs.flatten(1), test.flatten())


def test_the_mean_of_the_sub_networks_is_closer_to_the_test_network_than_one(
    scene: Scene,
) -> None:
    for p in (0.2, 0.5):
        ensemble = VIEW.theory_json(VIEW.theory("droppath", params(p=p), scene))["ensemble"]
        assert ensemble["change_mean"] < ensemble["single_mean"] / 2, ensemble
        assert all(c < one for c, one in zip(ensemble["change"], ensemble["single"], strict=True))


def test_nothing_dropped_at_p_0_and_everything_at_p_1(scene: Scene) -> None:
    for frame in frames(scene, 3, p=0.0):
        assert bool((gates_of(frame) == 1).all())
        assert frame.stats["output_change"] == 0.0 and frame.stats["dropped_fraction"] == 0.0
    setting = params(p=1.0, rule="constant", blocks=4, batch=3)
    theory = VIEW.theory("droppath", setting, scene)
    assert VIEW.theory_json(theory)["train_factor"] == [None] * 4
    assert VIEW.theory_json(theory)["expected_depth"] == 0.0
    frame = VIEW.frame("droppath", setting, 0, 0, scene, theory)
    assert bool((gates_of(frame) == 0).all()) and frame.stats["depth_mean"] == 0.0
    # Every branch dropped: the output is the input, carried by the shortcuts.
    assert torch.equal(forward(network(4), theory.inputs, torch.zeros(3, 4)), theory.inputs)


def test_the_shown_outputs_are_the_passes_norms(scene: Scene) -> None:
    setting = params(p=0.5, batch=3)
    theory = VIEW.theory("droppath", setting, scene)
    frame = VIEW.frame("droppath", setting, 2, 7, scene, theory)
    outputs = forward(network(8), theory.inputs, gates_of(frame).float())
    for b, sample in enumerate(samples_of(frame)):
        shown = np.frombuffer(base64.b64decode(sample["output"]), dtype=np.uint8)
        norm = torch.linalg.vector_norm(outputs[b], dim=0).flatten()
        expected = (norm / theory.scale[b] * 255).round().clamp(0, 255).numpy()
        np.testing.assert_array_equal(shown, expected.astype(np.uint8))
        gap = torch.linalg.vector_norm(outputs[b] - theory.test[b])
        assert sample["change"] == pytest.approx(
            float(gap / torch.linalg.vector_norm(theory.test[b]))
        )


# ---------------------------------------------------------------- the samples


def test_the_samples_are_the_most_active_squares_of_the_maps(scene: Scene) -> None:
    maps = run_stage(picture()).maps
    inputs, origins = choose_samples(maps)
    assert inputs.shape == (MAX_BATCH, 8, SIDE, SIDE) and len(set(origins)) == MAX_BATCH
    assert torch.equal(inputs, scene.data.inputs)
    totals = []
    for k, (row, column) in enumerate(origins):
        assert torch.equal(inputs[k], maps[:, row : row + SIDE, column : column + SIDE])
        totals.append(float(inputs[k].sum()))
    assert totals[0] == max(totals)  # the most active first
    for i, (r1, c1) in enumerate(origins):  # overlapping another by at most a quarter
        for r2, c2 in origins[:i]:
            overlap = max(0, SIDE - abs(r1 - r2)) * max(0, SIDE - abs(c1 - c2))
            assert overlap <= SIDE * SIDE // 4
    boxes = scene.info["samples"]
    assert len(boxes) == MAX_BATCH and all(0 <= v <= 1 for box in boxes for v in box)


@pytest.mark.parametrize("shape", [(3, 12, 9), (3, 400, 30), (3, 1, 1)])
def test_a_small_or_thin_picture_still_gives_a_full_batch(shape: tuple[int, int, int]) -> None:
    tiny = VIEW.scene(torch.rand(shape, generator=torch.Generator().manual_seed(0)))
    assert tiny.data.inputs.shape == (MAX_BATCH, 8, SIDE, SIDE)
    setting = params(batch=MAX_BATCH, blocks=3)
    theory = VIEW.theory("droppath", setting, tiny)
    frame = VIEW.frame("droppath", setting, 0, 0, tiny, theory)
    assert len(samples_of(frame)) == MAX_BATCH
    assert all(math.isfinite(s["change"]) for s in samples_of(frame))


# ---------------------------------------------------------------- over HTTP


def test_frames_over_http_are_the_views(client: TestClient, scene: Scene) -> None:
    response = client.get(
        "/api/frames?view=residual&method=droppath&p=0.4&mode=batch&blocks=5&batch=6"
        "&seed=3&start=10&count=3&format=json"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    setting = params(p=0.4, mode="batch", blocks=5, batch=6)
    assert body["params"] == setting
    theory = VIEW.theory("droppath", setting, scene)
    assert body["theory"]["expected_depth"] == pytest.approx(theory.expected_depth)
    for entry, frame in zip(
        body["frames"],
        VIEW.frames("droppath", setting, 3, range(10, 13), scene, theory),
        strict=True,
    ):
        assert entry["gates"]["value"] == gates_of(frame).tolist()
        assert entry["dropped_fraction"] == frame.stats["dropped_fraction"]
    stats = client.get(
        "/api/frames?view=residual&method=droppath&count=100&masks=false&format=json"
    )
    assert stats.status_code == 200 and "gates" not in stats.json()["frames"][0]
    scene_body = client.get("/api/scene?view=residual&format=json").json()
    assert scene_body["samples"] == scene.info["samples"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("blocks=0", "blocks"),
        ("blocks=17", "blocks"),
        ("blocks=2.5", "blocks"),
        ("batch=17", "batch"),
        ("batch=none", "batch"),
        ("rule=cosine", "rule"),
        ("mode=element", "mode"),
        ("p=1.5", "p"),
        ("map=edge_0", "map"),
        ("start=1000000", "start"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/frames?view=residual&method=droppath&{query}")
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["message"] and error["allowed"], error


def test_a_method_of_another_view_is_refused(client: TestClient) -> None:
    response = client.get("/api/frames?view=residual&method=standard")
    assert response.status_code == 422
    assert response.json()["error"]["allowed"] == "droppath"


def test_same_dropped_fraction_matches_p(client: TestClient) -> None:
    body = client.get("/api/match?view=residual&method=droppath&fraction=0.3&rule=constant").json()
    assert body["parameter"] == "p" and body["reached"]
    assert body["params"]["p"] == pytest.approx(0.3, abs=1e-4)
    body = client.get("/api/match?view=residual&method=droppath&fraction=0.3&blocks=8").json()
    assert body["params"]["p"] == pytest.approx(0.3 * 2 * 8 / 9, abs=1e-4)  # mean (l / L) p
