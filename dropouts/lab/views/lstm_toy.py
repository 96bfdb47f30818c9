"""The LSTM view's toy LSTM: fixed, seeded weights that hold a symbol in the cell state for
tens of steps, and the sparse symbol sequences it reads (see :mod:`dropouts.lab.views.lstm`)."""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from dropouts.rnn import DropoutLSTM, Mode

INPUTS = 4  # symbols of the toy sequence (one-hot)
SYMBOL_RATE = 0.2  # probability that a step shows a symbol
TOY_SEED = 1997  # the toy LSTM's weights: fixed, whatever the page's seed
FORGET_BIAS = 3.0  # f ≈ σ(3) = 0.95: the cell holds what it was given
INPUT_BIAS = -1.0  # the input gate is mostly closed, and opens on a symbol
INPUT_SCALE = 2.0  # input weights uniform in ±2 (the input gate's: 1 to 3)


@functools.lru_cache(maxsize=32)
def toy_weights(units: int) -> dict[str, Tensor]:
    """The toy LSTM's parameters (``DropoutLSTM``'s names and layout, gates i, f, g, o):
    input weights uniform in ±:data:`INPUT_SCALE` (the input gate's |w| + 1, so that any symbol
    opens it), recurrent weights uniform in ±1/sqrt(units) (``torch.nn.LSTMCell``'s), biases 0
    but the input gate's :data:`INPUT_BIAS` and the forget gate's :data:`FORGET_BIAS`. Shared:
    never write to these tensors."""
    generator = torch.Generator().manual_seed(TOY_SEED)
    bound = 1.0 / math.sqrt(units)
    weight_ih = (torch.rand(4 * units, INPUTS, generator=generator) * 2 - 1) * INPUT_SCALE
    weight_ih[:units] = weight_ih[:units].abs() + 1.0
    weight_hh = (torch.rand(4 * units, units, generator=generator) * 2 - 1) * bound
    bias_ih = torch.zeros(4 * units)
    bias_ih[:units] = INPUT_BIAS
    bias_ih[units : 2 * units] = FORGET_BIAS
    return {
        "weight_ih": weight_ih,
        "weight_hh": weight_hh,
        "bias_ih": bias_ih,
        "bias_hh": torch.zeros(4 * units),
    }


@functools.lru_cache(maxsize=64)
def _toy_model(mode: Mode, options: tuple[tuple[str, Any], ...], units: int) -> DropoutLSTM:
    """The toy LSTM of ``mode``, built once per setting (a frame asks for three). Shared:
    never write to it; :func:`toy_lstm` hands out shallow copies with their own generator."""
    model = DropoutLSTM(INPUTS, units, mode=mode, **dict(options))
    model.load_state_dict(toy_weights(units))
    return model


def toy_lstm(
    mode: Mode, options: Mapping[str, Any], units: int, generator: torch.Generator | None
) -> DropoutLSTM:
    """A :class:`DropoutLSTM` of ``mode`` with the toy weights, drawing from ``generator``: a
    shallow copy of the cached model (the same parameter tensors, its own ``generator``), so
    that frames served at once in several threads do not share a generator."""
    model = copy.copy(_toy_model(mode, tuple(sorted(options.items())), units))
    model.generator = generator
    return model


def draw_sequence(length: int, generator: torch.Generator) -> Tensor:
    """``(length, INPUTS)``: a one-hot symbol at each step with probability SYMBOL_RATE, else
    zeros."""
    shown = torch.rand(length, generator=generator) < SYMBOL_RATE
    symbol = torch.randint(0, INPUTS, (length,), generator=generator)
    return F.one_hot(symbol, INPUTS).float() * shown[:, None]
