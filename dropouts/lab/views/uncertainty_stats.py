"""The uncertainty view's Monte Carlo passes (Gal & Ghahramani 2016; see
:mod:`dropouts.lab.views.uncertainty`): the ``T`` passes in chunks of bounded memory, the
statistics of classification accumulated chunk by chunk, and the numbers as the page gets them
(rounded, or quantised as the wire sends them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from dropouts.lab import uncertainty as U
from dropouts.lab.views.base import ByteArray

CHUNK_ROWS = 1 << 16  # passes x points per batched forward (bounds the memory of T = 500)
DIGITS = 4


def display_bytes(values: Tensor) -> ByteArray:
    """``values`` ``(C, H, W)`` ≥ 0 as the page shows them: each channel on 256 steps of its
    own maximum, as the wire's ``bytes`` encoding sends them (app/wire.py). Quantised here, so
    that the frame's array IS what the page draws (and the export renders)."""
    values = values.double().clamp(min=0.0)
    scale = values.reshape(values.shape[0], -1).amax(dim=1).reshape(-1, 1, 1)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    steps = (values / safe * 255).round()
    return ByteArray(steps / 255 * safe * (scale > 0))


def rounded(values: Tensor, digits: int = DIGITS) -> list[Any]:
    rounded: list[Any] = values.double().round(decimals=digits).tolist()
    return rounded


def passes(model: U.TrainedModel, x: Tensor, masks: list[Tensor]) -> Tensor:
    """``(T, N, out)`` in chunks of passes, each one batched forward of at most about
    :data:`CHUNK_ROWS` rows."""
    T = masks[0].shape[0]
    step = max(1, CHUNK_ROWS // max(1, x.shape[0]))
    if step >= T:
        return U.sample_passes(model.network, x, masks)
    parts = [
        U.sample_passes(model.network, x, [mask[start : start + step] for mask in masks])
        for start in range(0, T, step)
    ]
    return torch.cat(parts)


@dataclass(frozen=True)
class ClassStats:
    """Per point: averaged probabilities ``(N, 2)``, predictive entropy, expected entropy and
    mutual information ``(N,)``."""

    mean: Tensor
    predictive_entropy: Tensor
    expected_entropy: Tensor
    mutual_information: Tensor


def entropy_of(probabilities: Tensor) -> Tensor:
    plogp: Tensor = torch.special.xlogy(probabilities, probabilities)
    return -plogp.sum(dim=-1)


def class_statistics(model: U.TrainedModel, x: Tensor, masks: list[Tensor]) -> ClassStats:
    """The Monte Carlo statistics of classification, accumulated chunk by chunk of passes
    (softmax probabilities averaged, never logits); the same numbers as
    :func:`dropouts.mc.mc_predict` ``(classifier=True)``."""
    T = masks[0].shape[0]
    step = max(1, CHUNK_ROWS // max(1, x.shape[0]))
    total = torch.zeros((x.shape[0], 2), dtype=torch.float64)
    entropy = torch.zeros((x.shape[0],), dtype=torch.float64)
    for start in range(0, T, step):
        logits = U.sample_passes(model.network, x, [m[start : start + step] for m in masks])
        probabilities = torch.softmax(logits, dim=-1)
        total += probabilities.sum(dim=0, dtype=torch.float64)
        entropy += entropy_of(probabilities).sum(dim=0, dtype=torch.float64)
    mean = total / T
    predictive = entropy_of(mean)
    expected = entropy / T
    return ClassStats(mean, predictive, expected, (predictive - expected).clamp(min=0.0))
