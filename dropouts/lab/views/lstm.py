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

import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import ClassVar

from torch import Tensor

from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.memory import TRAINING
from dropouts.lab.views.base import Array, Frame, Json, JsonArray, Scene, View, number
from dropouts.lab.views.lstm_masks import (
    MODE_ROWS,
    PART_NAMES,
    LSTMTheory,
    MaskSpec,
    expected_changed,
    inverted_scale,
    mask_rows,
    mask_spec,
    mask_specs,
    method_options,
    naive_p,
)
from dropouts.lab.views.lstm_run import bits, mask_statistics, rms, simulate, trajectories
from dropouts.lab.views.lstm_toy import FORGET_BIAS, INPUT_BIAS, INPUTS, SYMBOL_RATE
from dropouts.rnn import Mode

LSTM_METHODS: tuple[str, ...] = ("rnndrop", "recurrent", "variational_rnn", "zoneout")
METHOD_MODES: dict[str, Mode] = {
    "rnndrop": "rnndrop",
    "recurrent": "recurrent",
    "variational_rnn": "variational",
    "zoneout": "zoneout",
}
SHOWN = 4  # units whose cell-state trajectories are drawn


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
        weights = [mask_rows(spec, units) for spec in masks]
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
            naive=mask_spec("cell", "step", p, 1.0, "dropped", "naive mask mₜ on c"),
            expected_dropped_fraction=expected / sum(weights),
            expected_changed_fraction=changed / sum(weights),
            output_scale=inverted_scale(number(params, "p")) if method_id == "rnndrop" else 1.0,
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
        extra = {"rows": mask_rows(spec, units), "expected_changed": expected_changed(spec)}
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
        method_stats = mask_statistics(masks)
        naive_stats = mask_statistics([(naive, theory.naive)])
        stats: dict[str, Json] = {
            **method_stats,
            "masks": {
                spec.key: mask_statistics([(mask, spec)]) | {"acts_on": spec.acts_on}
                for mask, spec in masks
            },
            "naive": naive_stats,
            "deviation": rms(run.method.cell, run.none.cell),
            "naive_deviation": rms(run.naive.cell, run.none.cell),
            "symbols": int((run.x != 0).sum()),
        }
        shown = min(SHOWN, theory.units)
        arrays: dict[str, Array] = {"x": bits(run.x)}
        for mask, spec in masks:
            arrays[f"mask_{spec.key}"] = bits(mask)
        arrays["naive_mask"] = bits(naive)
        arrays["cells"] = JsonArray(
            {
                "units": list(range(shown)),
                "none": trajectories(run.none.cell, shown),
                "method": trajectories(run.method.cell, shown),
                "naive": trajectories(run.naive.cell, shown),
            }
        )
        return Frame(iteration, stats, arrays)


VIEW = LSTMView()
