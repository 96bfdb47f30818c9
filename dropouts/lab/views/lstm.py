"""The LSTM view: where each recurrent dropout puts its mask and whether the mask changes over
time, on a toy LSTM running over a sequence, against naive per-step dropout and no dropout.

The toy LSTM (:func:`toy_weights`) reads a sparse sequence of symbols: at each step, with
probability :data:`SYMBOL_RATE`, one of :data:`INPUTS` symbols (one-hot), else nothing. Its
input gate opens on a symbol (positive input weights, bias :data:`INPUT_BIAS`) and its forget
gate stays near 1 (bias :data:`FORGET_BIAS`, f ≈ 0.95): what a symbol writes into the cell
state is held for tens of steps. The weights are fixed (seeded), whatever the page's seed.

An iteration is a new sequence and new masks, all drawn from ``frame_generator(seed,
iteration)`` in this order: the sequence, the method's masks, the naive reference's masks. The
same LSTM runs over the same sequence three times (:func:`simulate`):

- without dropout (``none``);
- with the method, as :class:`dropouts.rnn.DropoutLSTM` computes it in training: RNNDrop's
  per-sequence mask on c, recurrent dropout's per-step (or per-sequence) mask on g,
  variational dropout's per-sequence masks on x and h_{t-1}, zoneout's per-step "keep the
  previous value" masks on c and h;
- with naive dropout at the method's p (zoneout: at z_c): a fresh 0/1 mask on the cell state
  at every step (``naive_state="cell"``), RNNDrop's mask drawn again each step, the pitfall
  that erases the memory (methods.md §9(f)).

A frame carries the masks as time x unit bits (rows: units, columns: steps), the sequence, the
cell states of the first :data:`SHOWN` units in the three runs, and statistics: the fraction
dropped (zoneout: held) overall and per step, the fraction of units whose mask changed from one
step to the next (0 for a per-sequence mask, 2q(1 - q) for a fresh Bernoulli(q) mask at every
step) and whether every mask is constant over time, and how far the cell state strays from its
path without dropout (RMS), for the method and for naive dropout.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from dropouts.lab.memory import MODE_NAMES
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.memory import TRAINING
from dropouts.lab.views.base import (
    Array,
    BinaryArray,
    Frame,
    Json,
    JsonArray,
    Scene,
    View,
    frame_generator,
    number,
)
from dropouts.rnn import MASK_STATES, DropoutLSTM, LSTMTrace, Mode

LSTM_METHODS: tuple[str, ...] = ("rnndrop", "recurrent", "variational_rnn", "zoneout")
METHOD_MODES: dict[str, Mode] = {
    "rnndrop": "rnndrop",
    "recurrent": "recurrent",
    "variational_rnn": "variational",
    "zoneout": "zoneout",
}
INPUTS = 4  # symbols of the toy sequence (one-hot)
SYMBOL_RATE = 0.2  # probability that a step shows a symbol
TOY_SEED = 1997  # the toy LSTM's weights: fixed, whatever the page's seed
FORGET_BIAS = 3.0  # f ≈ σ(3) = 0.95: the cell holds what it was given
INPUT_BIAS = -1.0  # the input gate is mostly closed, and opens on a symbol
INPUT_SCALE = 2.0  # input weights uniform in ±2 (the input gate's: 1 to 3)
SHOWN = 4  # units whose cell-state trajectories are drawn
DECIMALS = 4

Part = Literal["x", "h", "g", "c"]
PART_NAMES: dict[str, str] = {
    "x": "the input x_t",
    "h": "the hidden state h",
    "g": "the update g_t",
    "c": "the cell state c",
}


@dataclass(frozen=True)
class MaskSpec:
    """One mask of a mode: its trace key, the part of the LSTM it multiplies (x, h, g, c),
    whether it is drawn once per sequence or at every step, the probability of its 0 (dropped;
    for zoneout the probability of its 1, held), the value of a kept unit, and what a marked
    unit means ("dropped" or "held")."""

    key: str
    acts_on: Part
    per: Literal["sequence", "step"]
    probability: float
    kept_value: float
    meaning: Literal["dropped", "held"]
    label: str


@dataclass(frozen=True)
class ModeRow:
    """A mode as the cell diagram's table lists it."""

    mode: str
    name: str
    acts_on: tuple[str, ...]
    per: str
    equation: str


MODE_ROWS: tuple[ModeRow, ...] = (
    ModeRow("none", MODE_NAMES["none"], (), "", "cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ,   hₜ = oₜ ⊙ tanh(cₜ)"),
    ModeRow(
        "naive",
        MODE_NAMES["naive"],
        ("c",),
        "step",
        "cₜ = mₜ ⊙ (fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ),   a new mₜ at every step",
    ),
    ModeRow(
        "rnndrop",
        MODE_NAMES["rnndrop"],
        ("c",),
        "sequence",
        "cₜ = m ⊙ (fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ),   one m per sequence",
    ),
    ModeRow(
        "recurrent",
        MODE_NAMES["recurrent"],
        ("g",),
        "step",
        "cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ (mₜ ⊙ gₜ) / (1 − p)",
    ),
    ModeRow(
        "variational",
        MODE_NAMES["variational"],
        ("x", "h"),
        "sequence",
        "i, f, g, o from W (xₜ ⊙ zₓ) + U (hₜ₋₁ ⊙ zₕ) + b,   one zₓ, zₕ per sequence",
    ),
    ModeRow(
        "zoneout",
        MODE_NAMES["zoneout"],
        ("c", "h"),
        "step",
        "cₜ = dₜ ⊙ cₜ₋₁ + (1 − dₜ) ⊙ c̃ₜ,   the same for h with its own dₜ",
    ),
)


@dataclass(frozen=True)
class LSTMTheory:
    """What does not change from one iteration to the next: the setting, the masks' places
    and distributions, and their expected statistics."""

    method: str
    mode: Mode
    options: tuple[tuple[str, Any], ...]  # DropoutLSTM's keyword arguments for the method
    length: int
    units: int
    masks: tuple[MaskSpec, ...]
    naive: MaskSpec
    expected_dropped_fraction: float  # zoneout: expected fraction held
    expected_changed_fraction: float
    output_scale: float  # RNNDrop: the layer output's 1/(1-p) in training


# ---------------------------------------------------------------- the toy LSTM


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


def method_options(method: str, params: Mapping[str, ParamValue]) -> dict[str, Any]:
    """The method's registry parameters as :class:`DropoutLSTM` keyword arguments."""
    if method == "zoneout":
        return {"zoneout_c": number(params, "zoneout_c"), "zoneout_h": number(params, "zoneout_h")}
    options: dict[str, Any] = {"p": number(params, "p")}
    if method == "recurrent":
        options["per_sequence"] = bool(params["per_sequence"])
    if method == "variational_rnn":
        options["p_input"] = number(params, "p_input")
    return options


def naive_p(method: str, params: Mapping[str, ParamValue]) -> float:
    """The naive reference's p: the method's p (zoneout: z_c, the share of cell units it
    touches at each step)."""
    return number(params, "zoneout_c" if method == "zoneout" else "p")


def _inverse(p: float) -> float:
    return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)


def _spec(
    key: str,
    per: Literal["sequence", "step"],
    probability: float,
    kept_value: float,
    meaning: Literal["dropped", "held"],
    label: str,
) -> MaskSpec:
    """A mask of the trace key ``key``, on the part of the LSTM the library says it acts on."""
    return MaskSpec(key, MASK_STATES[key], per, probability, kept_value, meaning, label)


def mask_specs(method: str, params: Mapping[str, ParamValue]) -> tuple[MaskSpec, ...]:
    """The method's masks, in the order the trace holds them."""
    options = method_options(method, params)
    if method == "rnndrop":
        p = options["p"]
        return (_spec("cell", "sequence", p, 1.0, "dropped", "mask m on c"),)
    if method == "recurrent":
        p = options["p"]
        per: Literal["sequence", "step"] = "sequence" if options["per_sequence"] else "step"
        return (_spec("update", per, p, _inverse(p), "dropped", "mask m on g"),)
    if method == "variational_rnn":
        p, p_input = options["p"], options["p_input"]
        return (
            _spec("input", "sequence", p_input, _inverse(p_input), "dropped", "mask zₓ on x"),
            _spec("hidden", "sequence", p, _inverse(p), "dropped", "mask zₕ on h"),
        )
    if method == "zoneout":
        z_c, z_h = options["zoneout_c"], options["zoneout_h"]
        return (
            _spec("zoneout_c", "step", z_c, 1.0, "held", "zoneout d on c"),
            _spec("zoneout_h", "step", z_h, 1.0, "held", "zoneout d on h"),
        )
    raise KeyError(f"{method!r} has no lstm view")


def _rows(spec: MaskSpec, units: int) -> int:
    return INPUTS if spec.acts_on == "x" else units


def expected_changed(spec: MaskSpec) -> float:
    """P(a unit's mask differs from the step before): 0 once per sequence; 2q(1 - q) for a
    fresh Bernoulli(q) mask at every step."""
    q = spec.probability
    return 0.0 if spec.per == "sequence" else 2.0 * q * (1.0 - q)


# ---------------------------------------------------------------- one iteration


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


def _marked(mask: Tensor, spec: MaskSpec) -> Tensor:
    """True where the mask marks a unit: dropped (0), or for zoneout held (1)."""
    return mask != 0 if spec.meaning == "held" else mask == 0


def _changed(mask: Tensor) -> tuple[int, int]:
    """Units whose mask differs from the step before, and how many were compared."""
    if mask.shape[0] < 2:
        return 0, 0
    return int((mask[1:] != mask[:-1]).sum()), mask[1:].numel()


def _mask_statistics(masks: list[tuple[Tensor, MaskSpec]]) -> dict[str, Json]:
    """Marked fraction overall and per step, changed fraction, constancy, over ``masks``."""
    marked = sum(int(_marked(mask, spec).sum()) for mask, spec in masks)
    total = sum(mask.numel() for mask, _ in masks)
    per_step = torch.stack([_marked(mask, spec).sum(dim=1) for mask, spec in masks]).sum(dim=0)
    width = sum(mask.shape[1] for mask, _ in masks)
    changed = [_changed(mask) for mask, _ in masks]
    compared = sum(n for _, n in changed)
    return {
        "dropped_fraction": marked / total if total else 0.0,
        "step_fractions": [round(float(v) / width, DECIMALS) for v in per_step.tolist()],
        "changed_fraction": sum(c for c, _ in changed) / compared if compared else 0.0,
        "constant": all(torch.equal(mask, mask[:1].expand_as(mask)) for mask, _ in masks),
    }


def _rms(a: Tensor, b: Tensor) -> float:
    return float((a - b).double().pow(2).mean().sqrt())


def _trajectories(values: Tensor, shown: int) -> list[list[float]]:
    return [[round(v, DECIMALS) for v in values[:, u].tolist()] for u in range(shown)]


def _bits(mask: Tensor) -> BinaryArray:
    """A ``(T, rows)`` mask as ``(1, rows, T)``: a row per unit, a column per step."""
    return BinaryArray(mask.t().contiguous().unsqueeze(0))


class LSTMView(View[LSTMTheory]):
    """The recurrent dropouts on a toy LSTM over time (see the module docstring)."""

    id: ClassVar[str] = "lstm"
    methods: ClassVar[tuple[str, ...]] = LSTM_METHODS
    needs_image: ClassVar[bool] = False
    training = TRAINING  # the memory task

    def scene(self, picture: Tensor | None) -> Scene:
        del picture  # the LSTM reads its own sequences
        return Scene(None, {})

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> LSTMTheory:
        del scene, seed  # the toy weights are fixed; the masks' distribution is the setting's
        self.check_method(method_id)
        units = int(number(params, "units"))
        masks = mask_specs(method_id, params)
        weights = [_rows(spec, units) for spec in masks]
        expected = sum(w * s.probability for w, s in zip(weights, masks, strict=True))
        changed = sum(w * expected_changed(s) for w, s in zip(weights, masks, strict=True))
        p = naive_p(method_id, params)
        return LSTMTheory(
            method=method_id,
            mode=METHOD_MODES[method_id],
            options=tuple(sorted(method_options(method_id, params).items())),
            length=int(number(params, "length")),
            units=units,
            masks=masks,
            naive=_spec("cell", "step", p, 1.0, "dropped", "naive mask mₜ on c"),
            expected_dropped_fraction=expected / sum(weights),
            expected_changed_fraction=changed / sum(weights),
            output_scale=_inverse(number(params, "p")) if method_id == "rnndrop" else 1.0,
        )

    def theory_json(self, theory: LSTMTheory) -> dict[str, Json]:
        zoneout = theory.method == "zoneout"
        return {
            "unit": "unit",
            "mask_kind": "binary",
            "measure": "held" if zoneout else "dropped",
            "expected_dropped_fraction": theory.expected_dropped_fraction,
            "expected_changed_fraction": theory.expected_changed_fraction,
            "mode": theory.mode,
            "length": theory.length,
            "units": theory.units,
            "inputs": INPUTS,
            "shown_units": list(range(min(SHOWN, theory.units))),
            "masks": [self._mask_json(spec, theory.units) for spec in theory.masks],
            "naive": asdict(theory.naive)
            | {
                "rows": theory.units,
                "expected_dropped_fraction": theory.naive.probability,
                "expected_changed_fraction": expected_changed(theory.naive),
            },
            "output_scale": theory.output_scale,
            "parts": PART_NAMES,
            "modes": [asdict(row) | {"acts_on": list(row.acts_on)} for row in MODE_ROWS],
            "toy": {
                "symbol_rate": SYMBOL_RATE,
                "forget_bias": FORGET_BIAS,
                "forget_gate": 1.0 / (1.0 + math.exp(-FORGET_BIAS)),
                "input_bias": INPUT_BIAS,
            },
        }

    @staticmethod
    def _mask_json(spec: MaskSpec, units: int) -> dict[str, Json]:
        extra = {"rows": _rows(spec, units), "expected_changed": expected_changed(spec)}
        return asdict(spec) | extra

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        return self.theory(method_id, params, scene, seed=seed).expected_dropped_fraction

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: LSTMTheory,
    ) -> Frame:
        run = simulate(seed, iteration, theory)
        masks = [(run.method.masks[spec.key], spec) for spec in theory.masks]
        naive = run.naive.masks["cell"]
        method_stats = _mask_statistics(masks)
        naive_stats = _mask_statistics([(naive, theory.naive)])
        stats: dict[str, Json] = {
            **method_stats,
            "masks": {
                spec.key: _mask_statistics([(mask, spec)]) | {"acts_on": spec.acts_on}
                for mask, spec in masks
            },
            "naive": naive_stats,
            "deviation": _rms(run.method.cell, run.none.cell),
            "naive_deviation": _rms(run.naive.cell, run.none.cell),
            "symbols": int((run.x != 0).sum()),
        }
        shown = min(SHOWN, theory.units)
        arrays: dict[str, Array] = {"x": _bits(run.x)}
        for mask, spec in masks:
            arrays[f"mask_{spec.key}"] = _bits(mask)
        arrays["naive_mask"] = _bits(naive)
        arrays["cells"] = JsonArray(
            {
                "units": list(range(shown)),
                "none": _trajectories(run.none.cell, shown),
                "method": _trajectories(run.method.cell, shown),
                "naive": _trajectories(run.naive.cell, shown),
            }
        )
        return Frame(iteration, stats, arrays)


VIEW = LSTMView()
