"""The data of Monte Carlo dropout's toy problems (Gal & Ghahramani, ICML 2016): the noisy sine
with no training points in its middle third, the dense view's 2-D data sets, and the grid the
predictions are drawn on, seeded from the setup
(:class:`~dropouts.lab.uncertainty_setup.UncertaintySetup`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dropouts.lab.training import grid_points, make_dataset
from dropouts.lab.uncertainty_setup import (
    CLASS_GRID,
    DOMAIN,
    FREQUENCY,
    GAP,
    GRID,
    N_TEST,
    PLOT_RANGE,
    UncertaintySetup,
    seeded_generator,
)


def sine(x: Tensor) -> Tensor:
    """The regression's noiseless truth, ``sin(2x)``."""
    return torch.sin(FREQUENCY * x)


def regression_data(n: int, noise: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` points ``(x (n, 1), y (n, 1))`` float32: ``ceil(n / 2)`` uniform on ``[-3, -1]``,
    the others on ``[1, 3]`` (none in the middle third), ``y = sin(2x) + N(0, noise²)``."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    u = torch.rand((n,), generator=generator, dtype=torch.float64)
    left = torch.arange(n) < (n + 1) // 2
    width = GAP[0] - DOMAIN[0]
    x = torch.where(left, DOMAIN[0] + width * u, GAP[1] + width * u)
    y = sine(x) + noise * torch.randn((n,), generator=generator, dtype=torch.float64)
    return x[:, None].float(), y[:, None].float()


@dataclass(frozen=True)
class Data:
    x_train: Tensor  # (N, 1) or (N, 2) float32
    y_train: Tensor  # (N, 1) float32 or (N,) int64
    x_test: Tensor
    y_test: Tensor
    grid: Tensor  # the inputs the predictions are drawn on: (GRID, 1) or (CLASS_GRID², 2)
    extent: tuple[float, float, float, float]  # classification: the grid's square; else PLOT


def make_data(setup: UncertaintySetup) -> Data:
    """The training and test sets and the grid of the predictions."""
    train_gen = seeded_generator(setup.seed, setup.task, "train data")
    test_gen = seeded_generator(setup.seed, setup.task, "test data")
    if setup.task == "regression":
        x_train, y_train = regression_data(setup.n_train, setup.noise, train_gen)
        x_test = DOMAIN[0] + (DOMAIN[1] - DOMAIN[0]) * torch.rand((N_TEST, 1), generator=test_gen)
        y_test = sine(x_test) + setup.noise * torch.randn((N_TEST, 1), generator=test_gen)
        grid = torch.linspace(PLOT_RANGE[0], PLOT_RANGE[1], GRID)[:, None]
        extent = (PLOT_RANGE[0], PLOT_RANGE[1], PLOT_RANGE[0], PLOT_RANGE[1])
        return Data(x_train, y_train, x_test, y_test, grid, extent)
    x_train, labels = make_dataset(setup.dataset, setup.n_train, setup.noise, train_gen)
    x_test, test_labels = make_dataset(setup.dataset, N_TEST, setup.noise, test_gen)
    extent = class_extent(torch.cat([x_train, x_test]))
    return Data(x_train, labels, x_test, test_labels, grid_points(extent, CLASS_GRID), extent)


def class_extent(points: Tensor) -> tuple[float, float, float, float]:
    """A square around ``points``, its side twice the larger side of their bounding box: room
    around the data for the uncertainty far from it."""
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centre = (low + high) / 2
    half = float((high - low).max())
    cx, cy = float(centre[0]), float(centre[1])
    return (
        round(cx - half, 4),
        round(cx + half, 4),
        round(cy - half, 4),
        round(cy + half, 4),
    )
