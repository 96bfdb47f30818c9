"""The LSTM view's training: the memory task (:mod:`dropouts.lab.memory`), a small LSTM trained
with each recurrent dropout mode on delayed recall, its test accuracy against the distance k
(the modes: Moon et al., 2015, "RNNDrop"; Semeniuta et al., 2016, "Recurrent Dropout without
Memory Loss"; Gal and Ghahramani, 2016, "A Theoretically Grounded Application of Dropout in
Recurrent Neural Networks"; Krueger et al., 2017, "Zoneout").

It takes the lstm view's memory parameters and no method, and streams, for one run of every
mode in turn (``none`` first, the reference):

- ``info`` at once, before any training step: the setup, the modes, the distances, chance;
- ``progress`` at each checkpoint of each mode (step 0 first, before its first step): the mode,
  the step, the mean training loss since the last checkpoint, the test accuracy per distance;
- ``trained`` when a mode is done: its final accuracy per distance;
- ``done`` with every mode's final accuracy, and its mean over the three longest distances
  (``longest``, ``long_accuracy``).

Each mode's run is :data:`dropouts.lab.memory.MEMORY_RUNS`'s (per setup and mode). A stream
takes ONE place to train for all its modes, when the first mode that must train starts, and
frees it when the stream's work ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dropouts.lab.flights import Admit, Place
from dropouts.lab.memory import (
    BATCH,
    HIDDEN,
    LONG,
    MEMORY_MODES,
    MEMORY_PARAMS,
    MEMORY_RUNS,
    MODE_NAMES,
    N_TEST,
    ZONEOUT_H,
    MemoryCheckpoint,
    MemorySetup,
    checkpoint_steps,
    long_distance_accuracy,
)
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.base import (
    DECIMALS,
    Post,
    Stopped,
    Stream,
    Training,
    follow,
    needs_training,
)


def _rounded(values: tuple[float, ...]) -> list[float]:
    return [round(value, DECIMALS) for value in values]


def info_json(setup: MemorySetup) -> dict[str, Any]:
    """The ``info`` event: the setup under the registry's names, the seed, the modes in the
    order they train, the distances 1..k, the sequence length, chance, the checkpoints' steps
    and the fixed sizes (units, minibatch, test sequences, zoneout's z_h)."""
    return {
        "training": setup.view_params(),
        "seed": setup.seed,
        "modes": list(MEMORY_MODES),
        "names": {mode: MODE_NAMES[mode] for mode in MEMORY_MODES},
        "distances": list(range(1, setup.k + 1)),
        "length": setup.length,
        "symbols": setup.symbols,
        "chance": 1.0 / setup.symbols,
        "p": setup.p,
        "steps": setup.steps,
        "checkpoint_steps": list(checkpoint_steps(setup)),
        "hidden": HIDDEN,
        "batch": BATCH,
        "n_test": N_TEST,
        "zoneout_h": ZONEOUT_H,
    }


def progress_json(checkpoint: MemoryCheckpoint) -> dict[str, Any]:
    """A ``progress`` event: one checkpoint of one mode."""
    return {
        "mode": checkpoint.mode,
        "checkpoint": checkpoint.index,
        "step": checkpoint.step,
        "loss": None if checkpoint.loss is None else round(checkpoint.loss, DECIMALS),
        "accuracy": _rounded(checkpoint.accuracy),
    }


class _Kept:
    """The stream's one place, lent to each mode's run: a run's end does not free it."""

    def release(self) -> None:
        pass


class _OnePlace:
    """Asks ``admit`` once, at the first run that trains; :meth:`release` frees it at the end."""

    def __init__(self, admit: Admit) -> None:
        self._admit = admit
        self._place: Place | None = None

    def __call__(self) -> Place | None:
        if self._place is None:
            self._place = self._admit()
            if self._place is None:
                return None
        return _Kept()

    def release(self) -> None:
        if self._place is not None:
            self._place.release()


class MemoryTraining(Training):
    """Every mode of :data:`dropouts.lab.memory.MEMORY_MODES` on one :class:`MemorySetup`."""

    name: ClassVar[str | None] = "memory"
    takes_method: ClassVar[bool] = False
    summary: ClassVar[str] = "the LSTM memory task: accuracy against the distance k, every mode"

    def stream(self, method_id: str | None, params: Mapping[str, ParamValue], seed: int) -> Stream:
        setup = MemorySetup.from_params({k: params[k] for k in MEMORY_PARAMS}, seed)

        def work(post: Post, stopped: Stopped, admit: Admit) -> None:
            place = _OnePlace(admit)
            try:
                train_modes(post, stopped, place)
            finally:
                place.release()

        def train_modes(post: Post, stopped: Stopped, admit: Admit) -> None:
            final: dict[str, list[float]] = {}
            for mode in MEMORY_MODES:

                def event(checkpoint: MemoryCheckpoint) -> tuple[str, dict[str, Any]]:
                    return "progress", progress_json(checkpoint)

                run = follow(MEMORY_RUNS, (setup, mode), post, stopped, admit, event)
                if stopped():
                    return
                final[mode] = _rounded(run.accuracy)
                post("trained", {"mode": mode, "accuracy": final[mode]})
            longest = list(range(max(1, setup.k - LONG + 1), setup.k + 1))
            long_accuracy = {
                mode: round(long_distance_accuracy(a), DECIMALS) for mode, a in final.items()
            }
            post("done", {"accuracy": final, "longest": longest, "long_accuracy": long_accuracy})

        trains = any(needs_training(MEMORY_RUNS, (setup, mode)) for mode in MEMORY_MODES)
        return Stream([("info", info_json(setup))], work, trains=trains)


TRAINING = MemoryTraining()
