"""The LSTM view's masks: where each method puts them (x, h, g, c), how they are drawn, the
table of modes the cell diagram lists, and the setting a view's theory holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dropouts.lab.memory import MODE_NAMES
from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import number
from dropouts.lab.views.lstm_toy import INPUTS
from dropouts.rnn import MASK_STATES, Mode

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


def inverted_scale(p: float) -> float:
    return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)


def mask_spec(
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
        return (mask_spec("cell", "sequence", p, 1.0, "dropped", "mask m on c"),)
    if method == "recurrent":
        p = options["p"]
        per: Literal["sequence", "step"] = "sequence" if options["per_sequence"] else "step"
        return (mask_spec("update", per, p, inverted_scale(p), "dropped", "mask m on g"),)
    if method == "variational_rnn":
        p, p_input = options["p"], options["p_input"]
        return (
            mask_spec(
                "input", "sequence", p_input, inverted_scale(p_input), "dropped", "mask zₓ on x"
            ),
            mask_spec("hidden", "sequence", p, inverted_scale(p), "dropped", "mask zₕ on h"),
        )
    if method == "zoneout":
        z_c, z_h = options["zoneout_c"], options["zoneout_h"]
        return (
            mask_spec("zoneout_c", "step", z_c, 1.0, "held", "zoneout d on c"),
            mask_spec("zoneout_h", "step", z_h, 1.0, "held", "zoneout d on h"),
        )
    raise KeyError(f"{method!r} has no lstm view")


def mask_rows(spec: MaskSpec, units: int) -> int:
    return INPUTS if spec.acts_on == "x" else units


def expected_changed(spec: MaskSpec) -> float:
    """P(a unit's mask differs from the step before): 0 once per sequence; 2q(1 - q) for a
    fresh Bernoulli(q) mask at every step."""
    q = spec.probability
    return 0.0 if spec.per == "sequence" else 2.0 * q * (1.0 - q)
