"""The uncertainty view's theory (Gal & Ghahramani 2016; see
:mod:`dropouts.lab.views.uncertainty`): a many-pass reference estimate on its own stream at the
probes (regression) or over the regions (classification: on the data, between the classes, far
from the data), what the frames' numbers are compared with, and its expectation at ``T``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from dropouts.lab import uncertainty as U
from dropouts.lab.views.base import Json, frame_generator
from dropouts.lab.views.uncertainty_stats import ClassStats, class_statistics, passes

REFERENCE_PASSES = 10_000  # regression: the reference at the probes
CLASS_REFERENCE_PASSES = 2_000  # classification: over the regions' points
TEST_REFERENCE_PASSES = 500  # classification: the Monte Carlo mean's test accuracy
FAR_POINTS = 128  # the "far" region: at most this many grid points, evenly spread
REFERENCE_ITERATION = 10**9  # the reference's own stream: frame_generator(seed, this)
PROBES: tuple[float, ...] = (-4.5, -2.0, 0.0, 2.0, 4.5)
BETWEEN = 0.15  # classification: |d0 − d1| below this (equidistant from the two classes)…
NEAR = 0.5  # …and this close to the data is "between the classes"
FAR = 1.0  # farther than this from every training point is "far from the data"
REGIONS = ("data", "between", "far")


@dataclass(frozen=True)
class Reference:
    """A many-pass estimate (its own stream), what the frames' numbers are compared with."""

    passes: int
    values: dict[str, list[float]]  # regression: probe mean and model variance; else regions


@lru_cache(maxsize=32)
def reference_estimate(setup: U.UncertaintySetup) -> Reference:
    model = U.trained_model(setup)
    generator = frame_generator(setup.seed, REFERENCE_ITERATION)
    if setup.task == "regression":
        masks = U.draw_masks(model.network, REFERENCE_PASSES, generator)
        outputs = passes(model, torch.tensor(PROBES)[:, None], masks)[..., 0].double()
        return Reference(
            REFERENCE_PASSES,
            {
                "mean": outputs.mean(dim=0).tolist(),
                "model_variance": outputs.var(dim=0, unbiased=False).tolist(),
            },
        )
    regions = class_regions(model)
    masks = U.draw_masks(model.network, CLASS_REFERENCE_PASSES, generator)
    # Only the regions' grid points are needed: the rest of the grid stays out (it is not
    # asked for, and 2000 passes over all of it cost seconds).
    grid = model.data.grid
    chosen = regions["between"] | regions["far"]
    stats = class_statistics(model, torch.cat([grid[chosen], model.data.x_train]), masks)
    within = {name: mask[chosen] if name != "data" else mask for name, mask in regions.items()}
    split = split_by_region(stats, within)
    values = {
        f"{kind}_{name}": [float(split[kind][name])]
        for kind in ("entropy", "mutual_information")
        for name in REGIONS
    }
    test = class_statistics(model, model.data.x_test, [m[:TEST_REFERENCE_PASSES] for m in masks])
    accuracy = (test.mean.argmax(dim=1) == model.data.y_test).double().mean()
    return Reference(CLASS_REFERENCE_PASSES, values | {"test_accuracy": [float(accuracy)]})


def class_regions(model: U.TrainedModel) -> dict[str, Tensor]:
    """Boolean masks over the grid: ``between`` the classes (about equidistant from the
    nearest point of each class, and near the data) and ``far`` from every training point (at
    most :data:`FAR_POINTS` of them, evenly spread); ``data`` is the training points
    themselves (an all-True mask over them)."""
    grid, x, y = model.data.grid, model.data.x_train, model.data.y_train
    distance = torch.cdist(grid, x)
    d0 = distance[:, y == 0].min(dim=1).values
    d1 = distance[:, y == 1].min(dim=1).values
    nearest = torch.minimum(d0, d1)
    between = ((d0 - d1).abs() < BETWEEN) & (nearest < NEAR)
    far = nearest > FAR
    where = far.nonzero()[:, 0]
    if where.numel() > FAR_POINTS:  # evenly spread over them: the reference stays cheap
        keep = where[torch.linspace(0, where.numel() - 1, FAR_POINTS).round().long()]
        far = torch.zeros_like(far)
        far[keep] = True
    return {"data": torch.ones(x.shape[0], dtype=torch.bool), "between": between, "far": far}


def split_by_region(stats: ClassStats, regions: dict[str, Tensor]) -> dict[str, dict[str, float]]:
    """Mean predictive entropy and mutual information over each region, from the statistics
    of ``[the grid, the training points]`` (the regions ``between`` and ``far`` are parts of
    the grid); NaN for an empty region."""
    g = regions["between"].shape[0]
    out: dict[str, dict[str, float]] = {"entropy": {}, "mutual_information": {}}
    for kind, values in (
        ("entropy", stats.predictive_entropy),
        ("mutual_information", stats.mutual_information),
    ):
        parts = {
            "data": values[g:],
            "between": values[:g][regions["between"]],
            "far": values[:g][regions["far"]],
        }
        for name, chosen in parts.items():
            out[kind][name] = float(chosen.mean()) if chosen.numel() else float("nan")
    return out


@dataclass(frozen=True)
class UncertaintyTheory:
    setup: U.UncertaintySetup
    model: U.TrainedModel
    T: int
    lengthscale: float
    tau: float | None
    reference: Reference
    regions: dict[str, Tensor] | None
    deterministic: Tensor  # on the grid: the curve (GRID,) or P(class 1) (G, G)
    json: dict[str, Json]


def expected_std(tau_inverse: float, model_variance: float, T: int) -> float:
    """E of the (1/T) variance with T passes, plus τ⁻¹, as a standard deviation."""
    return math.sqrt(tau_inverse + model_variance * (T - 1) / T)
