"""A hand-written single-layer LSTM with the recurrent dropouts of methods.md §9-11 and §16.

``DropoutLSTM(input_size, hidden_size, mode=...)`` computes, at every step t,

    i, f, g, o = σ, σ, tanh, σ  of  (x_t ⊙ z_x) W_ih^T + (h_{t-1} ⊙ z_h) W_hh^T + b_ih + b_hh
    c̃_t = f ⊙ c_{t-1} + i ⊙ (g ⊙ d)        c_t = m ⊙ c̃_t        h_t = o ⊙ tanh(c_t)

followed by zoneout's mixing of (c_{t-1}, c_t) and (h_{t-1}, h_t). Every mode sets some of the
masks ``z_x``, ``z_h``, ``d``, ``m`` (or the zoneout masks); the others are 1. ``p`` is always
the DROP probability (methods.md §0).

Modes (the trace key of each mask in brackets):

* ``"none"``: a plain LSTM, equal to ``torch.nn.LSTMCell`` stepped over time.
* ``"naive"``: a fresh mask at every step, the per-step recurrent dropout that the papers below
  contrast with. By default on h_{t-1}, inverted ["hidden", values 0 or 1/(1-p)]; with
  ``naive_state="cell"`` on the cell state, RNNDrop's mask drawn again at every step
  (methods.md §9(f)): c_t = m_t ⊙ (f ⊙ c_{t-1} + i ⊙ g) ["cell", values 0 or 1, unscaled
  inside the recurrence and the output scaled by 1/(1-p) as for RNNDrop]. A unit dropped at
  any step between a write and a read has lost what was written: the memory is erased.
* ``"rnndrop"``: T. Moon, H. Choi, H. Lee, I. Song (2015), "RNNDrop: A Novel Dropout for RNNs
  in ASR". One 0/1 mask per sequence on the cell state, c_t = m ⊙ (f ⊙ c_{t-1} + i ⊙ g)
  ["cell", values 0 or 1]. The mask is NOT scaled inside the recurrence: a 1/(1-p) there
  would act as a forget gate f/(1-p) and make c grow as (1-p)^{-t} (methods.md §9(b)).
  Instead the layer ``output`` is h_t / (1-p) at train time (``LSTMTrace.output_scale``);
  the returned state ``(h_T, c_T)`` and ``trace.hidden`` stay unscaled so that the state can
  be fed back. Eval: no mask and no scaling.
* ``"recurrent"``: S. Semeniuta, A. Severyn, E. Barth (2016), "Recurrent Dropout without
  Memory Loss". Only the candidate g is dropped, c_t = f ⊙ c_{t-1} + i ⊙ d(g_t), with an
  inverted mask (safe: it scales only the new contribution) drawn per step, or once per
  sequence with ``per_sequence=True`` ["update", values 0 or 1/(1-p)].
* ``"variational"``: Y. Gal, Z. Ghahramani (2016), "A Theoretically Grounded Application of
  Dropout in Recurrent Neural Networks". Inverted masks on x_t ["input", 0 or 1/(1-p_input)]
  and on h_{t-1} ["hidden", 0 or 1/(1-p)], drawn once per sequence and shared by the four
  gates ("tied"); the cell state is never masked.
* ``"zoneout"``: D. Krueger, T. Maharaj, J. Kramár, M. Pezeshki, N. Ballas, N. R. Ke,
  A. Goyal, Y. Bengio, A. Courville, C. Pal (2016), "Zoneout: Regularizing RNNs by Randomly
  Preserving Hidden Activations". Fresh masks d ~ Bernoulli(z) per step, c_t = d^c ⊙ c_{t-1}
  + (1-d^c) ⊙ c̃_t and h_t = d^h ⊙ h_{t-1} + (1-d^h) ⊙ h̃_t with h̃_t = o ⊙ tanh(c̃_t)
  ["zoneout_c", "zoneout_h": d, 1 = unit keeps its previous value]. No scaling. Eval: the
  expectation, i.e. the same formula with d = z (and the trace holds z).

In eval mode no random numbers are drawn; the trace then holds the deterministic factors
applied (1 for the dropout modes, z for zoneout). A probability of 0 (or 1 for zoneout)
draws nothing either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args, overload

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.functional._common import check_probability, keep_mask
from dropouts.modules._base import DropoutModule

__all__ = ["MASK_STATES", "MODES", "DropoutLSTM", "LSTMTrace", "Mode", "NaiveState"]

Mode = Literal["none", "naive", "rnndrop", "recurrent", "variational", "zoneout"]
MODES: tuple[Mode, ...] = get_args(Mode)
NaiveState = Literal["hidden", "cell"]

# What each trace mask multiplies, in the LSTM's letters: x_t (the input), h (h_{t-1} entering
# the gates, or h_t for zoneout), g (the candidate update), c (the cell state).
MASK_STATES: dict[str, Literal["x", "h", "g", "c"]] = {
    "input": "x",
    "hidden": "h",
    "update": "g",
    "cell": "c",
    "zoneout_c": "c",
    "zoneout_h": "h",
}

Masks = dict[str, Tensor]
State = tuple[Tensor, Tensor]


@dataclass
class LSTMTrace:
    """What happened inside ``DropoutLSTM.forward``, time-major for visualisation.

    Every tensor has a leading time axis T, then the batch axis B (absent for unbatched
    input), then units: ``cell``, ``hidden``, ``i``, ``f``, ``g``, ``o`` are (T, B, H).
    ``masks`` maps a name to the multiplicative factor actually applied at each step (see the
    module docstring); per-sequence masks are repeated over T. ``hidden`` is the recurrent
    state h_t; the layer output is ``hidden * output_scale``. ``g`` is the candidate before
    any mask.
    """

    masks: dict[str, Tensor]
    cell: Tensor
    hidden: Tensor
    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor
    output_scale: float = 1.0


def _inverse_keep(p: float) -> float:
    """The inverted-dropout factor 1/(1-p); 0 at p = 1 where every unit is dropped anyway."""
    return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)


def _bernoulli(
    shape: tuple[int, ...], keep: float, like: Tensor, generator: torch.Generator | None
) -> Tensor:
    """A 0/1 tensor with P(1) = keep; draws nothing when keep is 0 or 1."""
    if keep >= 1.0:
        return like.new_ones(shape)
    if keep <= 0.0:
        return like.new_zeros(shape)
    return keep_mask(shape, keep, like, generator)


def _per_sequence(mask: Tensor, steps: int) -> Tensor:
    """Repeat a (B, N) mask over a new leading time axis: (T, B, N), a view."""
    return mask.expand(steps, *mask.shape)


def _naive_masks(
    p: float,
    state: NaiveState,
    steps: int,
    batch: int,
    hidden: int,
    like: Tensor,
    gen: torch.Generator | None,
) -> Masks:
    """Naive recurrent dropout: a fresh mask at every step, inverted on h_{t-1}, or 0/1 on the
    cell state (unscaled inside the recurrence, as RNNDrop's)."""
    mask = _bernoulli((steps, batch, hidden), 1.0 - p, like, gen)
    if state == "cell":
        return {"cell": mask}
    return {"hidden": mask * _inverse_keep(p)}


def _rnndrop_masks(
    p: float, steps: int, batch: int, hidden: int, like: Tensor, gen: torch.Generator | None
) -> Masks:
    """RNNDrop: one unscaled 0/1 cell-state mask per sequence."""
    return {"cell": _per_sequence(_bernoulli((batch, hidden), 1.0 - p, like, gen), steps)}


def _recurrent_masks(
    p: float,
    per_sequence: bool,
    steps: int,
    batch: int,
    hidden: int,
    like: Tensor,
    gen: torch.Generator | None,
) -> Masks:
    """Semeniuta: an inverted mask on the candidate g, per step or per sequence."""
    if per_sequence:
        mask = _per_sequence(_bernoulli((batch, hidden), 1.0 - p, like, gen), steps)
    else:
        mask = _bernoulli((steps, batch, hidden), 1.0 - p, like, gen)
    return {"update": mask * _inverse_keep(p)}


def _variational_masks(
    p_input: float,
    p: float,
    steps: int,
    batch: int,
    sizes: tuple[int, int],
    like: Tensor,
    gen: torch.Generator | None,
) -> Masks:
    """Gal & Ghahramani: inverted input and hidden masks drawn once per sequence, tied gates."""
    z_x = _bernoulli((batch, sizes[0]), 1.0 - p_input, like, gen) * _inverse_keep(p_input)
    z_h = _bernoulli((batch, sizes[1]), 1.0 - p, like, gen) * _inverse_keep(p)
    return {"input": _per_sequence(z_x, steps), "hidden": _per_sequence(z_h, steps)}


def _zoneout_masks(
    z_c: float,
    z_h: float,
    training: bool,
    steps: int,
    batch: int,
    hidden: int,
    like: Tensor,
    gen: torch.Generator | None,
) -> Masks:
    """Zoneout: fresh Bernoulli(z) 'keep the previous value' masks, or z itself at eval."""
    shape = (steps, batch, hidden)
    if not training:
        return {"zoneout_c": like.new_full(shape, z_c), "zoneout_h": like.new_full(shape, z_h)}
    return {
        "zoneout_c": _bernoulli(shape, z_c, like, gen),
        "zoneout_h": _bernoulli(shape, z_h, like, gen),
    }


def _zoneout(previous: Tensor, new: Tensor, d: Tensor) -> Tensor:
    """d ⊙ previous + (1 - d) ⊙ new: exactly one of the two where d is 0 or 1."""
    return d * previous + (1.0 - d) * new


class DropoutLSTM(DropoutModule):
    """A single-layer LSTM with one of six recurrent dropout ``mode``s (see the module doc).

    Parameters have ``torch.nn.LSTMCell``'s layout and initialisation: ``weight_ih`` (4H, D),
    ``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh`` (4H,), gates in the order i, f, g, o,
    all uniform(-1/sqrt(H), 1/sqrt(H)).

    Args:
        input_size: D, the number of input features.
        hidden_size: H, the number of units.
        mode: one of ``MODES``.
        p: the drop probability (zoneout: the default for ``zoneout_c`` and ``zoneout_h``).
        naive_state: ``"naive"`` only: the state its per-step mask drops, ``"hidden"``
            (h_{t-1}, inverted) or ``"cell"`` (c_t, 0/1, the output scaled as RNNDrop's).
        p_input: ``"variational"`` only: drop probability of the input mask (default ``p``).
        per_sequence: ``"recurrent"`` only: one mask per sequence instead of per step.
        zoneout_c, zoneout_h: ``"zoneout"`` only: probabilities of keeping the previous cell
            and hidden values (default ``p``).
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        generator: the ``torch.Generator`` used for every draw.

    Options that do not belong to the chosen mode are ignored.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        mode: Mode,
        p: float = 0.5,
        naive_state: NaiveState = "hidden",
        p_input: float | None = None,
        per_sequence: bool = False,
        zoneout_c: float | None = None,
        zoneout_h: float | None = None,
        batch_first: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(generator=generator)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.mode: Mode = mode
        self.p = check_probability(p)
        if naive_state not in get_args(NaiveState):
            raise ValueError(f"naive_state must be 'hidden' or 'cell', got {naive_state!r}")
        self.naive_state: NaiveState = naive_state
        self.p_input = check_probability(p if p_input is None else p_input, "p_input")
        self.per_sequence = per_sequence
        self.zoneout_c = check_probability(p if zoneout_c is None else zoneout_c, "zoneout_c")
        self.zoneout_h = check_probability(p if zoneout_h is None else zoneout_h, "zoneout_h")
        self.batch_first = batch_first
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as ``torch.nn.LSTMCell``."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, mode={self.mode!r}, p={self.p}"

    def _scales_output(self) -> bool:
        """Whether a 0/1 cell-state mask is in the recurrence, its 1/(1-p) on the output."""
        return self.mode == "rnndrop" or (self.mode == "naive" and self.naive_state == "cell")

    def _masks(self, steps: int, batch: int, like: Tensor) -> Masks:
        """The (T, B, ·) factors of this mode: drawn in training, deterministic at eval."""
        gen, hidden = self.generator, self.hidden_size
        if self.mode == "zoneout":
            z_c, z_h = self.zoneout_c, self.zoneout_h
            return _zoneout_masks(z_c, z_h, self.training, steps, batch, hidden, like, gen)
        p = self.p if self.training else 0.0  # p = 0 draws nothing and gives unit factors
        if self.mode == "naive":
            return _naive_masks(p, self.naive_state, steps, batch, hidden, like, gen)
        if self.mode == "rnndrop":
            return _rnndrop_masks(p, steps, batch, hidden, like, gen)
        if self.mode == "recurrent":
            return _recurrent_masks(p, self.per_sequence, steps, batch, hidden, like, gen)
        if self.mode == "variational":
            p_input = self.p_input if self.training else 0.0
            sizes = (self.input_size, hidden)
            return _variational_masks(p_input, p, steps, batch, sizes, like, gen)
        return {}

    @overload
    def forward(
        self, x: Tensor, state: State | None = None, *, return_trace: Literal[False] = False
    ) -> tuple[Tensor, State]: ...

    @overload
    def forward(
        self, x: Tensor, state: State | None = None, *, return_trace: Literal[True]
    ) -> tuple[Tensor, State, LSTMTrace]: ...

    def forward(
        self, x: Tensor, state: State | None = None, *, return_trace: bool = False
    ) -> tuple[Tensor, State] | tuple[Tensor, State, LSTMTrace]:
        """Run the LSTM over a sequence.

        Args:
            x: (T, B, D), or (B, T, D) with ``batch_first``, or unbatched (T, D).
            state: the initial ``(h_0, c_0)``, each (B, H) (or (H,) unbatched); zeros if None.
            return_trace: also return an ``LSTMTrace`` of masks, states and gates.

        Returns:
            ``(output, (h_T, c_T))`` and, with ``return_trace``, the trace. ``output`` has the
            layout of ``x`` with H features; ``(h_T, c_T)`` is the unscaled recurrent state.
        """
        unbatched = x.dim() == 2
        if x.dim() not in (2, 3):
            raise ValueError(f"expected a 2-D or 3-D input, got shape {tuple(x.shape)}")
        x = x.unsqueeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        steps, batch, _ = x.shape
        if state is None:
            h = c = x.new_zeros(batch, self.hidden_size)
        else:
            h, c = (s.unsqueeze(0) if unbatched else s for s in state)

        masks = self._masks(steps, batch, x)
        if "input" in masks:
            x = x * masks["input"]
        # Only the states are kept unless a trace is asked for (training needs no gates).
        names = ("cell", "hidden", "i", "f", "g", "o") if return_trace else ("cell", "hidden")
        history: dict[str, list[Tensor]] = {k: [] for k in names}
        weight_ih, bias_ih = self.weight_ih, self.bias_ih  # locals: one lookup, not one a step
        weight_hh, bias_hh = self.weight_hh, self.bias_hh
        hidden_mask, update_mask = masks.get("hidden"), masks.get("update")
        cell_mask, zone_c, zone_h = (
            masks.get("cell"),
            masks.get("zoneout_c"),
            masks.get("zoneout_h"),
        )
        for t in range(steps):
            h_in = h * hidden_mask[t] if hidden_mask is not None else h
            # The input's product step by step, as torch.nn.LSTMCell: one (T * B, D) product for
            # all steps is no faster on these sizes, and BLAS may split it over threads, which
            # costs milliseconds to wake on a busy machine.
            x_gates = F.linear(x[t], weight_ih, bias_ih)
            gates = x_gates + F.linear(h_in, weight_hh, bias_hh)
            i_raw, f_raw, g_raw, o_raw = gates.chunk(4, dim=-1)
            i, f, g, o = i_raw.sigmoid(), f_raw.sigmoid(), g_raw.tanh(), o_raw.sigmoid()
            update = g * update_mask[t] if update_mask is not None else g
            c_new = f * c + i * update
            if cell_mask is not None:
                c_new = c_new * cell_mask[t]
            h_new = o * c_new.tanh()
            if zone_c is not None and zone_h is not None:
                c_new = _zoneout(c, c_new, zone_c[t])
                h_new = _zoneout(h, h_new, zone_h[t])
            h, c = h_new, c_new
            for name, value in zip(history, (c, h, i, f, g, o), strict=False):
                history[name].append(value)

        stacked = {name: torch.stack(values) for name, values in history.items()}
        scale = _inverse_keep(self.p) if self._scales_output() and self.training else 1.0
        output = stacked["hidden"] * scale if scale != 1.0 else stacked["hidden"]
        if unbatched:
            output, h, c = output.squeeze(1), h.squeeze(0), c.squeeze(0)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not return_trace:
            return output, (h, c)

        if unbatched:  # drop the batch axis of the trace too
            masks = {name: mask.squeeze(1) for name, mask in masks.items()}
            stacked = {name: value.squeeze(1) for name, value in stacked.items()}
        trace = LSTMTrace(
            masks=masks,
            cell=stacked["cell"],
            hidden=stacked["hidden"],
            i=stacked["i"],
            f=stacked["f"],
            g=stacked["g"],
            o=stacked["o"],
            output_scale=scale,
        )
        return output, (h, c), trace
