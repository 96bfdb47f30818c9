"""Memory, measured: a small LSTM trained with each recurrent dropout mode on a task that needs
memory, and its test accuracy against the distance k it must remember over.

The task (delayed recall): a sequence of ``2k`` symbols drawn uniformly from ``symbols``
(one-hot inputs); at every step t the network answers, with one output head per distance
d = 1..k, the symbol it saw d steps earlier (heads whose symbol would come before the start
are not scored). Chance is 1 / symbols at every distance; remembering further back needs the
state to carry the symbol through more steps, which is what the recurrent dropouts do or do
not disturb. One run per mode gives the whole curve accuracy(k).

Every mode trains the same network (:class:`dropouts.rnn.DropoutLSTM` of :data:`HIDDEN` units,
a linear head), from the same initial weights, on the same minibatches, with the same drop
probability ``p``; only where and when the mask acts differs:

- ``none``: no dropout (the reference);
- ``naive``: a fresh 0/1 mask on the cell state at every step (``naive_state="cell"``):
  RNNDrop's mask drawn again each step. A unit dropped at any step between the write and the
  read has lost the symbol;
- ``rnndrop``: one mask on the cell state per sequence;
- ``recurrent``: a fresh mask on the update g at every step (Semeniuta et al.'s default);
- ``variational``: one mask on h_{t-1} per sequence. Its input mask is off (``p_input = 0``):
  dropping a one-hot input feature for a whole sequence hides a symbol whatever the memory,
  and the other modes do not touch the input either;
- ``zoneout``: cell units keep their previous value with probability ``p`` and hidden units
  with :data:`ZONEOUT_H` (the registry's default), fresh at every step.

Accuracy is measured at test time (the modes' test-time rules: no mask; zoneout's
expectation) on :data:`N_TEST` fixed test sequences. Everything is decided by the
:class:`MemorySetup` and the mode: the same setup gives the same checkpoints on every run (one
torch thread, same torch version). :func:`trained_mode` memoises finished runs
(:data:`MEMORY_RUNS`, single-flight: :mod:`dropouts.lab.flights`). Nothing here knows about
HTTP.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.flights import Cancelled, Flights, Publish, TrainingCancelledError, one_thread
from dropouts.lab.registry import ParamError, ParamValue, get_view, validate_view_params
from dropouts.rnn import MODES, DropoutLSTM, Mode

__all__ = [
    "MEMORY_MODES",
    "MEMORY_PARAMS",
    "MEMORY_RUNS",
    "MODE_NAMES",
    "MemoryCheckpoint",
    "MemoryNetwork",
    "MemoryRun",
    "MemorySetup",
    "accuracy_by_distance",
    "checkpoint_steps",
    "held_out_symbols",
    "long_distance_accuracy",
    "mode_options",
    "train_mode",
    "trained_mode",
]

MEMORY_MODES: tuple[Mode, ...] = MODES  # none first: the reference
MODE_NAMES: dict[str, str] = {
    "none": "no dropout",
    "naive": "naive dropout",
    "rnndrop": "RNNDrop",
    "recurrent": "recurrent dropout",
    "variational": "variational RNN dropout",
    "zoneout": "zoneout",
}
LONG = 3  # "long distances": the last three, k - 2 to k
MEMORY_PARAMS = ("memory_p", "memory_k", "memory_symbols", "memory_steps")
HIDDEN = 32  # LSTM units
BATCH = 32  # fresh sequences per training step
LR = 0.02  # Adam
N_TEST = 512  # fixed test sequences
CHECKPOINT_EVERY = 50  # steps between checkpoints (and the last step)
ZONEOUT_H = 0.05  # zoneout's hidden-state probability: the registry's default
# Steps x sequence length of one run: about 8 s on one core of the machine it was tuned on
# (0.2 ms a step of 20 time steps for 32 sequences of 32 units, forward and backward).
STEP_BUDGET = 40_000
CACHE_RUNS = 64  # finished runs (setup, mode) kept


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts``: independent streams for the weights, the
    minibatches, the test set and each mode's masks."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


def _defaults() -> dict[str, ParamValue]:
    view = get_view("lstm")
    return {param.name: param.default for param in view.params if param.name in MEMORY_PARAMS}


_DEFAULTS = _defaults()


@dataclass(frozen=True)
class MemorySetup:
    """Everything a memory run depends on but the mode; frozen and hashable (a cache key).

    ``p``, ``k``, ``symbols`` and ``steps`` are the lstm view's ``memory_p``, ``memory_k``,
    ``memory_symbols`` and ``memory_steps``; they are checked against the registry on
    construction (``ParamError`` naming the registry's field)."""

    p: float = cast(float, _DEFAULTS["memory_p"])
    k: int = cast(int, _DEFAULTS["memory_k"])
    symbols: int = cast(int, _DEFAULTS["memory_symbols"])
    steps: int = cast(int, _DEFAULTS["memory_steps"])
    seed: int = 0

    def __post_init__(self) -> None:
        values = validate_view_params(get_view("lstm"), self.view_params())
        object.__setattr__(self, "p", float(cast(float, values["memory_p"])))
        object.__setattr__(self, "k", int(cast(int, values["memory_k"])))
        object.__setattr__(self, "symbols", int(cast(int, values["memory_symbols"])))
        object.__setattr__(self, "steps", int(cast(int, values["memory_steps"])))
        if not 0 <= self.seed < 2**63:
            raise ParamError("seed", f"{self.seed!r} is out of range", "0 to 2**63 - 1")
        most = STEP_BUDGET // self.length
        if self.steps > most:
            raise ParamError(
                "memory_steps",
                f"{self.steps} steps of {self.length}-step sequences is more than "
                f"{STEP_BUDGET:,} step x time step a run",
                f"at most {most // 100 * 100} steps with memory_k={self.k}",
            )

    @property
    def length(self) -> int:
        """Time steps of a sequence: 2k, so that every distance has k or more answers."""
        return 2 * self.k

    def view_params(self) -> dict[str, ParamValue]:
        """The setup under the lstm view's registry names."""
        return {
            "memory_p": self.p,
            "memory_k": self.k,
            "memory_symbols": self.symbols,
            "memory_steps": self.steps,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, ParamValue], seed: int | None = None) -> MemorySetup:
        """The setup from the lstm view's parameters by their registry names (missing ones
        take the defaults; the others are ignored) and ``seed`` (else ``params["seed"]``,
        else 0); a value out of range raises ``ParamError`` naming the field."""
        values = validate_view_params(
            get_view("lstm"), {k: v for k, v in params.items() if k in MEMORY_PARAMS}
        )
        if seed is None:
            seed = int(cast(int, params.get("seed", 0) or 0))
        return cls(
            p=float(cast(float, values["memory_p"])),
            k=int(cast(int, values["memory_k"])),
            symbols=int(cast(int, values["memory_symbols"])),
            steps=int(cast(int, values["memory_steps"])),
            seed=seed,
        )


def mode_options(mode: Mode, p: float) -> dict[str, Any]:
    """The :class:`DropoutLSTM` options of ``mode`` at drop probability ``p`` (see the module
    docstring)."""
    if mode == "naive":
        return {"p": p, "naive_state": "cell"}
    if mode == "variational":
        return {"p": p, "p_input": 0.0}
    if mode == "zoneout":
        return {"p": p, "zoneout_c": p, "zoneout_h": ZONEOUT_H}
    return {"p": p}


def checkpoint_steps(setup: MemorySetup) -> tuple[int, ...]:
    """0, every :data:`CHECKPOINT_EVERY` steps, and the last step."""
    steps = list(range(0, setup.steps, CHECKPOINT_EVERY))
    return (*steps, setup.steps)


# ---------------------------------------------------------------- data


def draw_symbols(setup: MemorySetup, count: int, generator: torch.Generator) -> Tensor:
    """``count`` sequences of ``setup.length`` symbols, time-major: ``(T, count)`` int64."""
    return torch.randint(0, setup.symbols, (setup.length, count), generator=generator)


def held_out_symbols(setup: MemorySetup) -> Tensor:
    """The fixed test sequences ``(T, N_TEST)`` (they do not depend on ``steps`` or ``p``)."""
    return draw_symbols(setup, N_TEST, _generator(setup.seed, setup.k, setup.symbols, "test"))


def targets(symbols: Tensor, k: int) -> Tensor:
    """``(T, B, k)``: at step t, head d - 1 answers the symbol of step t - d; -1 before the
    start (not scored)."""
    steps = symbols.shape[0]
    out = symbols.new_full((steps, symbols.shape[1], k), -1)
    for d in range(1, k + 1):
        out[d:, :, d - 1] = symbols[: steps - d]
    return out


# ---------------------------------------------------------------- the network


class MemoryNetwork(nn.Module):
    """One-hot symbols -> :class:`DropoutLSTM` (``mode``) -> a linear head of ``k`` answers of
    ``symbols`` logits per step."""

    def __init__(self, setup: MemorySetup, mode: Mode, generator: torch.Generator) -> None:
        super().__init__()
        self.setup = setup
        options = mode_options(mode, setup.p)
        self.lstm = DropoutLSTM(setup.symbols, HIDDEN, mode=mode, generator=generator, **options)
        self.head = nn.Linear(HIDDEN, setup.k * setup.symbols)
        weights = _generator(setup.seed, setup.k, setup.symbols, "weights")
        bound = 1.0 / math.sqrt(HIDDEN)  # torch.nn.LSTMCell's and this head's initialisation
        with torch.no_grad():
            for param in (*self.lstm.parameters(), *self.head.parameters()):
                param.uniform_(-bound, bound, generator=weights)

    def forward(self, symbols: Tensor) -> Tensor:
        """``(T, B)`` symbols -> ``(T, B, k, symbols)`` logits."""
        x = F.one_hot(symbols, self.setup.symbols).float()
        output, _ = self.lstm(x)
        logits: Tensor = self.head(output)
        return logits.view(*symbols.shape, self.setup.k, self.setup.symbols)


def _loss(logits: Tensor, answers: Tensor) -> Tensor:
    """Mean over the distances of each distance's mean cross-entropy (every distance counts
    the same, however many answers it has)."""
    k, symbols = logits.shape[2], logits.shape[3]
    losses = F.cross_entropy(
        logits.reshape(-1, symbols), answers.reshape(-1).clamp(min=0), reduction="none"
    ).view(answers.shape)
    scored = (answers >= 0).to(losses.dtype)
    per_distance = (losses * scored).sum(dim=(0, 1)) / scored.sum(dim=(0, 1))
    return per_distance.sum() / k


def accuracy_by_distance(network: MemoryNetwork, symbols: Tensor) -> tuple[float, ...]:
    """Test-time accuracy at each distance 1..k on ``symbols`` ``(T, B)`` (eval mode)."""
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            logits = network(symbols)
    finally:
        network.train(was_training)
    answers = targets(symbols, network.setup.k)
    scored = answers >= 0
    right = (logits.argmax(dim=-1) == answers) & scored
    per_distance = right.sum(dim=(0, 1)).double() / scored.sum(dim=(0, 1)).double()
    return tuple(float(a) for a in per_distance)


def long_distance_accuracy(accuracy: tuple[float, ...] | list[float]) -> float:
    """The mean accuracy over the :data:`LONG` longest distances (k - 2 to k)."""
    last = list(accuracy)[-LONG:]
    return sum(last) / len(last)


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class MemoryCheckpoint:
    """One mode after ``step`` steps: the mean training loss since the last checkpoint (None at
    step 0) and the test accuracy at each distance 1..k."""

    mode: Mode
    index: int
    step: int
    loss: float | None
    accuracy: tuple[float, ...]


@dataclass(frozen=True)
class MemoryRun:
    """A finished run of one mode: its checkpoints, the last one the trained network's."""

    setup: MemorySetup
    mode: Mode
    checkpoints: tuple[MemoryCheckpoint, ...]

    @property
    def accuracy(self) -> tuple[float, ...]:
        return self.checkpoints[-1].accuracy


def train_mode(
    setup: MemorySetup,
    mode: Mode,
    *,
    progress: Callable[[MemoryCheckpoint], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> MemoryRun:
    """Train the network with ``mode`` and return its checkpoints (:func:`checkpoint_steps`),
    each passed to ``progress`` as it is taken. ``cancelled`` is asked before every step
    (``TrainingCancelledError``)."""
    if mode not in MEMORY_MODES:
        raise ParamError("mode", f"unknown mode {mode!r}", ", ".join(MEMORY_MODES))
    reported = set(checkpoint_steps(setup))
    checkpoints: list[MemoryCheckpoint] = []
    with one_thread():
        network = MemoryNetwork(setup, mode, _generator(setup.seed, mode, "masks"))
        batches = _generator(setup.seed, setup.k, setup.symbols, "batches")  # same for all modes
        test = held_out_symbols(setup)
        losses: list[float] = []

        def checkpoint(step: int) -> None:
            loss = sum(losses) / len(losses) if losses else None
            losses.clear()
            taken = MemoryCheckpoint(
                mode, len(checkpoints), step, loss, accuracy_by_distance(network, test)
            )
            checkpoints.append(taken)
            if progress is not None:
                progress(taken)

        checkpoint(0)
        # After the first checkpoint: the first Adam of a process imports torch._dynamo (more
        # than a second), and step 0 needs no optimiser.
        optimizer = torch.optim.Adam(network.parameters(), lr=LR)
        for step in range(1, setup.steps + 1):
            if cancelled is not None and cancelled():
                raise TrainingCancelledError
            symbols = draw_symbols(setup, BATCH, batches)
            loss = _loss(network(symbols), targets(symbols, setup.k))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses.append(float(loss.detach()))
            if step in reported:
                checkpoint(step)
    return MemoryRun(setup, mode, tuple(checkpoints))


def _train_remembered(
    key: tuple[MemorySetup, Mode], publish: Publish[MemoryCheckpoint], cancelled: Cancelled
) -> MemoryRun:
    setup, mode = key
    return train_mode(setup, mode, progress=publish, cancelled=cancelled)


# The runs, one per setup and mode at a time (two streams of a page share it), the last
# CACHE_RUNS remembered.
MEMORY_RUNS: Flights[tuple[MemorySetup, Mode], MemoryCheckpoint, MemoryRun] = Flights(
    "lstm", _train_remembered, history=lambda run: run.checkpoints, size=CACHE_RUNS
)


def trained_mode(
    setup: MemorySetup,
    mode: Mode,
    *,
    progress: Callable[[MemoryCheckpoint], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> MemoryRun:
    """:func:`train_mode`, memoised (:data:`MEMORY_RUNS`): a remembered run passes all its
    checkpoints to ``progress`` at once; a caller of a run under way follows it. A cancelled
    run is not remembered."""
    return MEMORY_RUNS.get((setup, mode), progress=progress, cancelled=cancelled)
