"""One iteration of the LSTM view: the sequence and the three runs (without dropout, with the
method, with naive dropout), and what a frame reports of them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dropouts.lab.views.base import BinaryArray, Json, frame_generator
from dropouts.lab.views.lstm_masks import LSTMTheory, MaskSpec
from dropouts.lab.views.lstm_toy import draw_sequence, toy_lstm
from dropouts.rnn import LSTMTrace

DECIMALS = 4


@dataclass(frozen=True)
class Simulation:
    """One iteration: the sequence ``(T, INPUTS)`` and the traces of the three runs (the
    unbatched layout of :class:`LSTMTrace`: ``(T, units)``, masks ``(T, rows)``)."""

    x: Tensor
    none: LSTMTrace
    method: LSTMTrace
    naive: LSTMTrace


def simulate(seed: int, iteration: int, theory: LSTMTheory) -> Simulation:
    """The sequence and the three runs of iteration ``iteration`` (see the module docstring)."""
    generator = frame_generator(seed, iteration)
    x = draw_sequence(theory.length, generator)
    options = dict(theory.options)
    with torch.no_grad():
        _, _, none = toy_lstm("none", {}, theory.units, None)(x, return_trace=True)
        model = toy_lstm(theory.mode, options, theory.units, generator)
        _, _, method = model(x, return_trace=True)
        naive_options = {"p": theory.naive.probability, "naive_state": "cell"}
        _, _, naive = toy_lstm("naive", naive_options, theory.units, generator)(
            x, return_trace=True
        )
    return Simulation(x, none, method, naive)


def marked_units(mask: Tensor, spec: MaskSpec) -> Tensor:
    """True where the mask marks a unit: dropped (0), or for zoneout held (1)."""
    return mask != 0 if spec.meaning == "held" else mask == 0


def changed_units(mask: Tensor) -> tuple[int, int]:
    """Units whose mask differs from the step before, and how many were compared."""
    if mask.shape[0] < 2:
        return 0, 0
    return int((mask[1:] != mask[:-1]).sum()), mask[1:].numel()


def mask_statistics(masks: list[tuple[Tensor, MaskSpec]]) -> dict[str, Json]:
    """Marked fraction overall and per step, changed fraction, constancy, over ``masks``."""
    marked = sum(int(marked_units(mask, spec).sum()) for mask, spec in masks)
    total = sum(mask.numel() for mask, _ in masks)
    per_step = torch.stack([marked_units(mask, spec).sum(dim=1) for mask, spec in masks]).sum(dim=0)
    width = sum(mask.shape[1] for mask, _ in masks)
    changed = [changed_units(mask) for mask, _ in masks]
    compared = sum(n for _, n in changed)
    return {
        "dropped_fraction": marked / total if total else 0.0,
        "step_fractions": [round(float(v) / width, DECIMALS) for v in per_step.tolist()],
        "changed_fraction": sum(c for c, _ in changed) / compared if compared else 0.0,
        "constant": all(torch.equal(mask, mask[:1].expand_as(mask)) for mask, _ in masks),
    }


def rms(a: Tensor, b: Tensor) -> float:
    return float((a - b).double().pow(2).mean().sqrt())


def trajectories(values: Tensor, shown: int) -> list[list[float]]:
    return [[round(v, DECIMALS) for v in values[:, u].tolist()] for u in range(shown)]


def bits(mask: Tensor) -> BinaryArray:
    """A ``(T, rows)`` mask as ``(1, rows, T)``: a row per unit, a column per step."""
    return BinaryArray(mask.t().contiguous().unsqueeze(0))
