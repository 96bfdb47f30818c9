"""The max-pooling dropout view: one feature map zoomed, its pooling windows, and which unit
wins each window with and without the Bernoulli mask (Wu & Gu 2015).

The map is one of the stage's maps (:mod:`dropouts.lab.views.features`) after the ReLU and BEFORE
its pooling: max-pooling dropout acts inside the pooling. A :data:`CROP` x :data:`CROP` square
of it is zoomed (24 is a multiple of every pool size offered, 2, 3 and 4, so the windows tile
it and line up with the stage's own pooling grid), placed where the map is most active.

Each frame applies :func:`dropouts.functional.maxpool_dropout` to the square with the frame's
generator. In a window of ``n`` units sorted by value, descending ``a_(1) >= ... >= a_(n)``
(ties in reading order), the winner is the highest-ranked unit the mask kept, so the
``i``-th ranked unit wins with probability ``p_i = (1 - p) p^(i - 1)`` and no unit with ``p^n``
(the output is then 0); the output is the winner's value. At test time probabilistic weighted
pooling ``sum_i p_i a_(i)`` is the exact expectation, which the running Monte Carlo mean of
the training outputs approaches, unlike the scaled max ``(1 - p) a_(1)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from dropouts import functional as D
from dropouts.lab.registry import FILTER_IDS, ParamValue
from dropouts.lab.stopping import checkpoint
from dropouts.lab.views.base import BinaryArray, Frame, Json, Scene, View, frame_generator, number
from dropouts.lab.views.features import run_stage

POOLING_METHODS: tuple[str, ...] = ("maxpool",)
CROP = 24
MAX_ITERATION = 2000  # the running mean of iteration i replays iterations 0..i


@dataclass(frozen=True)
class PoolingScene:
    crops: dict[str, Tensor]  # map id -> (1, CROP, CROP), post-ReLU, pre-pool
    origins: dict[str, tuple[int, int]]  # map id -> (row, column) of the square in the map


@dataclass(frozen=True)
class PoolingTheory:
    map: str
    kernel: int
    p: float
    rows: int  # windows down
    columns: int  # windows across
    rank_probability: tuple[float, ...]  # p_i for the i-th largest, i = 1..n
    none_probability: float  # p^n: every unit dropped, the output is 0
    order: tuple[tuple[int, ...], ...]  # per window: its units (reading order) by rank
    plain_max: tuple[float, ...]  # per window: max, what plain max pooling outputs
    weighted: tuple[float, ...]  # per window: probabilistic weighted pooling
    scaled_max: tuple[float, ...]  # per window: (1 - p) max
    output_variance: tuple[float, ...]  # per window: variance of the training output
    expected_rank_counts: tuple[float, ...]  # windows won by rank 1..n, then by none


def _most_active_origin(activation: Tensor) -> tuple[int, int]:
    """The top-left corner, on a lattice of CROP / 2 units (a multiple of 2, 3 and 4), of the
    CROP x CROP square with the largest total activation (where the map answers most: the
    cat's eye for an edge map); the first such square on ties."""
    step = CROP // 2
    totals = F.avg_pool2d(activation.double()[None, None], CROP, stride=step)[0, 0]
    best = int(totals.flatten().argmax())
    row, column = divmod(best, totals.shape[1])
    return row * step, column * step


def _square(activation: Tensor) -> tuple[Tensor, tuple[int, int]]:
    """The zoomed square of one map (zero-padded if the map is smaller) and where it lies."""
    height, width = activation.shape
    padded = F.pad(activation, (0, max(0, CROP - width), 0, max(0, CROP - height)))
    row, column = _most_active_origin(padded)
    return padded[row : row + CROP, column : column + CROP][None].clone(), (row, column)


def windows_of(crop: Tensor, kernel: int) -> Tensor:
    """``(windows, n)``: each window's units in reading order, windows in reading order."""
    units = F.unfold(crop[None].double(), kernel, stride=kernel)[0]  # (n, windows)
    return units.T.contiguous()


def rank_order(windows: Tensor) -> Tensor:
    """Per window, its units' indices by value, descending; ties keep reading order."""
    return torch.sort(windows, dim=1, descending=True, stable=True).indices


def pooling_theory(crop: Tensor, map_id: str, p: float, kernel: int) -> PoolingTheory:
    """What Wu & Gu's analysis predicts for the square ``crop`` ``(1, CROP, CROP)``."""
    windows = windows_of(crop, kernel)
    count, n = windows.shape
    order = rank_order(windows)
    ranked = windows.gather(1, order)  # descending
    keep = 1.0 - p
    rank_probability = torch.tensor([keep * p**i for i in range(n)], dtype=torch.float64)
    weighted = D.probabilistic_weighted_pooling(crop.double(), p, kernel).flatten()
    second = (ranked * ranked) @ rank_probability
    variance = (second - weighted * weighted).clamp(min=0.0)
    plain = ranked[:, 0]
    expected_counts = [count * float(q) for q in rank_probability] + [count * p**n]
    return PoolingTheory(
        map=map_id,
        kernel=kernel,
        p=p,
        rows=CROP // kernel,
        columns=CROP // kernel,
        rank_probability=tuple(float(q) for q in rank_probability),
        none_probability=p**n,
        order=tuple(tuple(int(i) for i in row) for row in order.tolist()),
        plain_max=tuple(float(v) for v in plain),
        weighted=tuple(float(v) for v in weighted),
        scaled_max=tuple(float(v) for v in keep * plain),
        output_variance=tuple(float(v) for v in variance),
        expected_rank_counts=tuple(expected_counts),
    )


@dataclass(frozen=True)
class PoolingDraw:
    """One iteration of max-pooling dropout on the square."""

    mask: Tensor  # (1, CROP, CROP), 0/1
    outputs: Tensor  # (windows,), the library's pooled output
    winners: list[int]  # per window: the winning unit (reading order), -1 if all dropped
    ranks: list[int]  # per window: the winner's rank, 1..n, 0 if all dropped


def draw(crop: Tensor, p: float, kernel: int, seed: int, iteration: int) -> PoolingDraw:
    """Iteration ``iteration``: :func:`dropouts.functional.maxpool_dropout` on the square with
    the iteration's generator, and which unit of each window won."""
    result = D.maxpool_dropout(
        crop, p, kernel, generator=frame_generator(seed, iteration), return_mask=True
    )
    assert isinstance(result, tuple)
    outputs, mask = result
    mask = mask.expand_as(crop)
    kept = windows_of(mask, kernel) != 0
    order = rank_order(windows_of(crop, kernel))
    kept_by_rank = kept.gather(1, order)
    any_kept = kept_by_rank.any(dim=1)
    first = kept_by_rank.double().argmax(dim=1)  # the first kept rank
    winners = torch.where(any_kept, order.gather(1, first[:, None])[:, 0], -1)
    ranks = torch.where(any_kept, first + 1, 0)
    return PoolingDraw(mask.float(), outputs.flatten(), winners.tolist(), ranks.tolist())


def running_means(crop: Tensor, p: float, kernel: int, seed: int, last: int) -> Tensor:
    """``(last + 1, windows)``: the mean of the training outputs over iterations 0..i, for
    every i up to ``last``: the Monte Carlo estimate of the test-time output."""
    outputs = torch.stack([draw(crop, p, kernel, seed, i).outputs for i in range(last + 1)])
    steps = torch.arange(1, last + 2, dtype=torch.float64)[:, None]
    return outputs.double().cumsum(dim=0) / steps


class PoolingView(View[PoolingTheory]):
    """One map zoomed with its pooling grid; winners with and without the mask."""

    id: ClassVar[str] = "pooling"
    methods: ClassVar[tuple[str, ...]] = POOLING_METHODS
    max_iteration: ClassVar[int | None] = MAX_ITERATION

    def scene(self, picture: Tensor | None) -> Scene:
        if picture is None:
            raise ValueError("the pooling view needs a picture")
        stage = run_stage(picture)
        crops, origins = {}, {}
        for index, map_id in enumerate(FILTER_IDS):
            crops[map_id], origins[map_id] = _square(stage.activations[index])
        info: dict[str, Json] = {
            "crop": CROP,
            "map_width": stage.activations.shape[-1],
            "map_height": stage.activations.shape[-2],
            "maps": {
                map_id: {"origin": list(origins[map_id]), "values": crops[map_id][0].tolist()}
                for map_id in FILTER_IDS
            },
        }
        return Scene(PoolingScene(crops, origins), info)

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> PoolingTheory:
        self.check_method(method_id)
        map_id = str(params["map"])
        crop = scene.data.crops[map_id]
        return pooling_theory(crop, map_id, number(params, "p"), int(number(params, "kernel_size")))

    def theory_json(self, theory: PoolingTheory) -> dict[str, Json]:
        rms_bias = math.sqrt(
            sum((w - s) ** 2 for w, s in zip(theory.weighted, theory.scaled_max, strict=True))
            / len(theory.weighted)
        )
        return {
            "unit": "unit",
            "mask_kind": "binary",
            "expected_dropped_fraction": theory.p,
            "expected_changed_fraction": 1.0 - theory.rank_probability[0],
            "scaled_max_rms_error": rms_bias,
            "map": theory.map,
            "kernel": theory.kernel,
            "p": theory.p,
            "rows": theory.rows,
            "columns": theory.columns,
            "rank_probability": list(theory.rank_probability),
            "none_probability": theory.none_probability,
            "order": [list(o) for o in theory.order],
            "plain_max": list(theory.plain_max),
            "weighted": list(theory.weighted),
            "scaled_max": list(theory.scaled_max),
            "expected_rank_counts": list(theory.expected_rank_counts),
        }

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: PoolingTheory,
    ) -> Frame:
        return self.frames(method_id, params, seed, range(iteration, iteration + 1), scene, theory)[
            0
        ]

    def frames(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iterations: range,
        scene: Scene,
        theory: PoolingTheory,
    ) -> list[Frame]:
        """The frames of ``iterations``, replaying 0..last once for the running means."""
        self.check_method(method_id)
        crop: Tensor = scene.data.crops[theory.map]
        means = running_means(crop, theory.p, theory.kernel, seed, iterations[-1])
        weighted = torch.tensor(theory.weighted, dtype=torch.float64)
        variance = torch.tensor(theory.output_variance, dtype=torch.float64)
        frames = []
        for iteration in iterations:
            checkpoint()
            step = draw(crop, theory.p, theory.kernel, seed, iteration)
            n = theory.kernel * theory.kernel
            rank_counts = [0] * (n + 1)  # ranks 1..n, then none
            for rank in step.ranks:
                rank_counts[rank - 1 if rank > 0 else n] += 1
            changed = sum(rank != 1 for rank in step.ranks) / len(step.ranks)
            mean = means[iteration]
            error = float(((mean - weighted) ** 2).mean().sqrt())
            expected_error = float((variance.mean() / (iteration + 1)).sqrt())
            stats: dict[str, Json] = {
                "dropped_fraction": float((step.mask == 0).double().mean()),
                "changed_fraction": changed,
                "winners": step.winners,
                "ranks": step.ranks,
                "outputs": [float(v) for v in step.outputs],
                "rank_counts": rank_counts,
                "mc_mean": [float(v) for v in mean],
                "mc_rms_error": error,
                "mc_rms_expected": expected_error,
            }
            frames.append(Frame(iteration, stats, {"mask": BinaryArray(step.mask)}))
        return frames


VIEW = PoolingView()
