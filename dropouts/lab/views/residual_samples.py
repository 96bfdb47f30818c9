"""The residual view's samples: the most active squares of the feature-map stage's maps of a
picture, a batch of them (see :mod:`dropouts.lab.views.residual`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as TF
from torch import Tensor

SIDE = 24  # a sample: SIDE x SIDE map units (2 SIDE pixels of the stage's picture)
MAX_BATCH = 16  # the registry's largest batch: the samples are chosen once per picture


@dataclass(frozen=True)
class ResidualScene:
    inputs: Tensor  # (MAX_BATCH, C, SIDE, SIDE): the samples, most active first
    origins: tuple[tuple[int, int], ...]  # (row, column) of each square in the maps
    picture: Tensor  # (3, h, w): the picture at the stage's resolution
    digest: str  # names the picture, for the theories' cache


def _positions(size: int, step: int) -> list[int]:
    last = size - SIDE
    positions = list(range(0, last + 1, step))
    return positions if positions[-1] == last else [*positions, last]


def choose_samples(maps: Tensor) -> tuple[Tensor, tuple[tuple[int, int], ...]]:
    """:data:`MAX_BATCH` squares of the maps ``(C, h, w)``: on a lattice of half a square, the
    most active first (total activation), each overlapping an already chosen one by at most a
    quarter; a picture too small for that many gives overlapping squares, and one smaller than
    a square is padded with zeros (its squares then repeat)."""
    _, height, width = maps.shape
    padded = TF.pad(maps, (0, max(0, SIDE - width), 0, max(0, SIDE - height)))
    _, height, width = padded.shape
    activity = padded.sum(dim=0)
    step = SIDE // 2
    while True:
        candidates = [(r, c) for r in _positions(height, step) for c in _positions(width, step)]
        if len(candidates) >= MAX_BATCH or step == 1:
            break
        step = max(1, step // 2)
    totals = [float(activity[r : r + SIDE, c : c + SIDE].sum()) for r, c in candidates]
    order = sorted(range(len(candidates)), key=lambda k: (-totals[k], candidates[k]))
    chosen: list[tuple[int, int]] = []
    for limit in (SIDE * SIDE // 4, SIDE * SIDE):
        for k in order:
            r, c = candidates[k]
            if (r, c) in chosen or len(chosen) == MAX_BATCH:
                continue
            overlaps = (
                max(0, SIDE - abs(r - r2)) * max(0, SIDE - abs(c - c2)) for r2, c2 in chosen
            )
            if all(area <= limit for area in overlaps):
                chosen.append((r, c))
    while len(chosen) < MAX_BATCH:  # fewer squares than samples: they repeat
        chosen.append(chosen[len(chosen) % max(1, len(chosen))])
    inputs = torch.stack([padded[:, r : r + SIDE, c : c + SIDE] for r, c in chosen])
    return inputs.contiguous(), tuple(chosen)
