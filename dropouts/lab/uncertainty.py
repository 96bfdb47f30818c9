"""Monte Carlo dropout on toy problems: a small network trained with dropout, then T stochastic
passes batched into one forward (Gal & Ghahramani, ICML 2016).

Two tasks, both a 1-or-2 → ``width`` × ``depth`` → 1-or-2 ReLU network with BatchNorm, each
hidden layer ``Linear → BatchNorm1d → ReLU → Dropout(p)``:

- ``regression``: a noisy sine, ``y = sin(2x) + ε``, ``ε ~ N(0, noise²)``, with training
  points on ``[-3, -1] ∪ [1, 3]`` and none in the middle third; the curves are drawn on
  :data:`PLOT_RANGE`, wider than the data on both sides;
- ``classification``: the 2-D data sets of the dense view
  (:func:`dropouts.lab.training.make_dataset`).

Training is full batch with Adam on the loss of Gal's code
(``yaringal/DropoutUncertaintyExps:net/net.py``, Keras): the mean squared error (or the
cross-entropy) plus ``λ Σ ‖W‖²`` over the weight matrices, ``λ`` the weight decay. For
regression the model precision is then ``τ = r l² / (2 N λ)`` (``r = 1 − p`` the KEEP
probability, ``l`` the prior length-scale, ``N`` the training points), and the predictive
variance ``τ⁻¹ + (1/T) Σ ŷ_t² − mean²``.

Everything is decided by an :class:`UncertaintySetup` (frozen, hashable): the data, the
initial weights and the training masks come from generators seeded from it, so the same setup
gives the same network on every run; :data:`UNCERTAINTY_RUNS` memoises it and lets concurrent
callers of the same setup wait for one run (:mod:`dropouts.lab.flights`).

The passes: :func:`draw_masks` draws every pass's masks at once, pass-major, so pass ``t`` is
the same whatever ``T`` (the first passes of ``T = 100`` are those of ``T = 10``), and
:func:`sample_passes` runs all ``T`` passes as ONE batched forward of shape ``(T, N, ·)``. A
pass keeps its mask for every input point: it is one sampled network ``Ŵ_t``, drawn as a whole
curve. (Gal's code, and :func:`dropouts.mc.mc_predict`, draw a mask per example: the same
marginal distribution at every point, hence the same mean and variance, but jagged curves.)
Nothing here knows about HTTP.

The parts, by concern: the setup and its constants (:mod:`dropouts.lab.uncertainty_setup`),
the data (:mod:`dropouts.lab.uncertainty_data`), the network and its masks
(:mod:`dropouts.lab.uncertainty_network`), the batched passes and their statistics
(:mod:`dropouts.lab.uncertainty_passes`) and the training run
(:mod:`dropouts.lab.uncertainty_training`); here the memoised runs, and every public name.
"""

from __future__ import annotations

from collections.abc import Callable

from dropouts.lab.flights import Cancelled, Flights, Publish, one_thread
from dropouts.lab.uncertainty_data import Data, make_data, regression_data, sine
from dropouts.lab.uncertainty_network import build_network, draw_masks
from dropouts.lab.uncertainty_passes import (
    deterministic,
    predict,
    running_estimate,
    sample_passes,
)
from dropouts.lab.uncertainty_setup import (
    CLASS_GRID,
    DOMAIN,
    GAP,
    GRID,
    PLOT_RANGE,
    SNAPSHOT_PASSES,
    TASKS,
    WIDTHS,
    UncertaintySetup,
    tau,
)
from dropouts.lab.uncertainty_training import Snapshot, TrainedModel, snapshot_steps, train

__all__ = [
    "CLASS_GRID",
    "DOMAIN",
    "GAP",
    "GRID",
    "PLOT_RANGE",
    "SNAPSHOT_PASSES",
    "TASKS",
    "UNCERTAINTY_RUNS",
    "WIDTHS",
    "Data",
    "Snapshot",
    "TrainedModel",
    "UncertaintySetup",
    "build_network",
    "deterministic",
    "draw_masks",
    "make_data",
    "one_thread",
    "predict",
    "regression_data",
    "running_estimate",
    "sample_passes",
    "sine",
    "snapshot_steps",
    "tau",
    "train",
    "trained_model",
]


# ---------------------------------------------------------------- the cache


def _train_remembered(
    setup: UncertaintySetup, publish: Publish[Snapshot], cancelled: Cancelled
) -> TrainedModel:
    return train(setup, progress=publish, cancelled=cancelled)


# The trained networks, one run per setup at a time (the frames and the training stream of a
# page share it), the last 16 remembered.
UNCERTAINTY_RUNS: Flights[UncertaintySetup, Snapshot, TrainedModel] = Flights(
    "uncertainty", _train_remembered, history=lambda model: model.history, size=16
)


def trained_model(
    setup: UncertaintySetup,
    *,
    progress: Callable[[Snapshot], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TrainedModel:
    """The trained network of ``setup``, memoised (:data:`UNCERTAINTY_RUNS`), the same object
    for every caller; a caller asking for a setup that another is training follows that run.
    ``progress`` gets every snapshot: as it is taken, or all at once from the record when it
    was remembered. ``cancelled``: as :func:`train` (a cancelled run is not remembered).
    Without either, it trains only where training is allowed
    (:func:`dropouts.lab.flights.no_training`)."""
    if progress is None and cancelled is None:
        return UNCERTAINTY_RUNS.obtain(setup)
    return UNCERTAINTY_RUNS.get(setup, progress=progress, cancelled=cancelled)
