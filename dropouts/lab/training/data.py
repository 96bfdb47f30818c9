"""The 2-D two-class data sets of the dense view, a run's training and test sets, and the grid
on which the decision boundary is drawn."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from dropouts.lab.training._seeds import _generator

if TYPE_CHECKING:
    from dropouts.lab.training.setup import TrainingSetup

DATASETS = ("moons", "circles", "xor", "spiral")
GRID = 40  # the decision boundary is P(class 1) on GRID x GRID points


def make_dataset(
    name: str, n: int, noise: float, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``n`` points of a 2-D two-class problem: ``X`` ``(n, 2)`` float32 and ``y`` ``(n,)`` int64.

    The classes are balanced (``ceil(n / 2)`` of class 0, ``floor(n / 2)`` of class 1, in that
    order); ``noise`` is the standard deviation of Gaussian noise added to each coordinate. The
    noiseless shapes span about [-1.5, 1.5], so one learning rate suits them all:

    - ``moons``: two interleaving half circles of radius 1 (as scikit-learn's, centred);
    - ``circles``: a circle of radius 1 around one of radius 0.5;
    - ``xor``: uniform in the square [-1, 1]²; class 1 where ``x·y > 0`` (quadrants 1 and 3);
    - ``spiral``: two interleaved arms of 1.5 turns, radius 0 to 1.25.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not (noise >= 0.0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    counts = ((n + 1) // 2, n // 2)
    parts = [_shape(name, label, count, generator) for label, count in enumerate(counts)]
    x = torch.cat(parts)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    y = torch.cat(
        [torch.full((count,), label, dtype=torch.int64) for label, count in enumerate(counts)]
    )
    return x.to(torch.float32), y


def _shape(name: str, label: int, count: int, generator: torch.Generator) -> Tensor:
    """``count`` noiseless points of class ``label`` (float64)."""
    u = torch.rand((count,), generator=generator, dtype=torch.float64)
    if name == "moons":
        angle = math.pi * u
        if label == 0:
            points = torch.stack([angle.cos(), angle.sin()], dim=1)
        else:
            points = torch.stack([1.0 - angle.cos(), 0.5 - angle.sin()], dim=1)
        return points - torch.tensor([0.5, 0.25], dtype=torch.float64)
    if name == "circles":
        angle = 2.0 * math.pi * u
        radius = 1.0 if label == 0 else 0.5
        return radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    if name == "xor":
        magnitude = torch.rand((count, 2), generator=generator, dtype=torch.float64)
        sign = torch.randint(0, 2, (count,), generator=generator, dtype=torch.float64) * 2 - 1
        other = sign if label == 1 else -sign  # same signs: x·y > 0, class 1
        return magnitude * torch.stack([sign, other], dim=1)
    # spiral: radius grows with the angle; class 1 is class 0 turned by half a turn
    turn = 3.0 * math.pi * u + math.pi * label
    return torch.stack([1.25 * u * turn.cos(), 1.25 * u * turn.sin()], dim=1)


class TrainingData(NamedTuple):
    x_train: Tensor  # (n_train, 2) float32
    y_train: Tensor  # (n_train,) int64
    x_test: Tensor  # (n_test, 2) float32
    y_test: Tensor  # (n_test,) int64
    extent: tuple[float, float, float, float]  # the grid's x_min, x_max, y_min, y_max


def training_data(setup: TrainingSetup) -> TrainingData:
    """The run's training and test sets (independent draws: the test set does not change with
    ``n_train``) and the square extent of the boundary grid: a square around all the points,
    its side 1.2 times the larger side of their bounding box."""
    x_train, y_train = make_dataset(
        setup.dataset, setup.n_train, setup.noise, _generator(setup.seed, "train data")
    )
    x_test, y_test = make_dataset(
        setup.dataset, setup.n_test, setup.noise, _generator(setup.seed, "test data")
    )
    points = torch.cat([x_train, x_test])
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centre = (low + high) / 2
    half = float((high - low).max()) * 0.6
    cx, cy = float(centre[0]), float(centre[1])
    extent = (_round(cx - half), _round(cx + half), _round(cy - half), _round(cy + half))
    return TrainingData(x_train, y_train, x_test, y_test, extent)


def _round(value: float) -> float:
    return round(value, 4)


def grid_points(extent: tuple[float, float, float, float], size: int = GRID) -> Tensor:
    """The ``size * size`` grid points ``(size², 2)``, row-major: row ``i`` has ``y`` the
    ``i``-th value from ``y_min`` to ``y_max``, column ``j`` has ``x`` from ``x_min`` to
    ``x_max`` (the layout of a heatmap's ``z[i][j]``)."""
    x_min, x_max, y_min, y_max = extent
    xs = torch.linspace(x_min, x_max, size)
    ys = torch.linspace(y_min, y_max, size)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
