"""Compression by variational dropout, trained: sparse VD prunes weights, structured BP whole
neurons (Molchanov, Ashukha & Vetrov 2017; Neklyudov, Molchanov, Ashukha & Vetrov 2017).

A ReLU network ``inputs → width × depth → classes`` learns a small classification problem, in
one of two variants (the registry's ``variant``): ``svdo``, sparse variational dropout, whose
weights are pruned where ``log α ≥ threshold``; ``sbp``, structured Bayesian pruning, whose
neurons are removed where their signal-to-noise ratio is at or below the SNR threshold. A plain
network of the same shape trains in lockstep: the dense reference for the accuracies.

One concern per module; this package re-exports their public names (and the private
``_generator`` and ``_memoised`` that the benchmarks and the tests use), so ``from
dropouts.lab.compression import …`` works as before; patch a module attribute where it is looked up
(e.g. ``dropouts.lab.compression.run._memoised``), not here:

- :mod:`~dropouts.lab.compression.data`: the digits and the 2-D sets (:class:`CompressionData`,
  :func:`compression_data`, :func:`load_digits`);
- :mod:`~dropouts.lab.compression.setup`: :class:`CompressionSetup` (what a run depends on,
  the cache key), its seeds and :func:`checkpoint_steps`;
- :mod:`~dropouts.lab.compression.networks`: the sparse VD and structured BP networks and the dense
  reference (:func:`build_networks`);
- :mod:`~dropouts.lab.compression.pruning`: checkpoints (:class:`Checkpoint`) and their pruning at a
  threshold (:func:`kept_weights`, :func:`kept_neurons`, :func:`pruning`, :func:`curve`);
- :mod:`~dropouts.lab.compression.run`: the training loop (:func:`train`), :class:`CompressionRun`,
  and the memoised, shared runs (:func:`trained_compression`; cancelled with
  :class:`dropouts.lab.flights.TrainingCancelledError`).

Nothing here knows about HTTP.
"""

from __future__ import annotations

from dropouts.lab.compression.data import DATA_SEED as DATA_SEED
from dropouts.lab.compression.data import DATASETS, CompressionData, compression_data, load_digits
from dropouts.lab.compression.data import DIGITS_FILE as DIGITS_FILE
from dropouts.lab.compression.data import DIGITS_TEST as DIGITS_TEST
from dropouts.lab.compression.data import PIXEL_STD_FLOOR as PIXEL_STD_FLOOR
from dropouts.lab.compression.data import POINTS_NOISE as POINTS_NOISE
from dropouts.lab.compression.data import POINTS_TEST as POINTS_TEST
from dropouts.lab.compression.data import POINTS_TRAIN as POINTS_TRAIN
from dropouts.lab.compression.networks import SVDO_INIT_STD as SVDO_INIT_STD
from dropouts.lab.compression.networks import SparseNetwork as SparseNetwork
from dropouts.lab.compression.networks import StructuredNetwork as StructuredNetwork
from dropouts.lab.compression.networks import build_networks as build_networks
from dropouts.lab.compression.networks import initial_weights as initial_weights
from dropouts.lab.compression.pruning import LOG_ALPHA_CLIP as LOG_ALPHA_CLIP
from dropouts.lab.compression.pruning import SNR_GRID as SNR_GRID
from dropouts.lab.compression.pruning import THRESHOLD_GRID as THRESHOLD_GRID
from dropouts.lab.compression.pruning import (
    Checkpoint,
    Pruning,
    accuracy,
    alive_neurons,
    kept_neurons,
    kept_weights,
    logits,
    pruning,
)
from dropouts.lab.compression.pruning import LayerState as LayerState
from dropouts.lab.compression.pruning import curve as curve
from dropouts.lab.compression.pruning import effective_weights as effective_weights
from dropouts.lab.compression.run import CACHE_RUNS as CACHE_RUNS
from dropouts.lab.compression.run import COMPRESSION_RUNS as COMPRESSION_RUNS
from dropouts.lab.compression.run import SBP_LR_SCALE as SBP_LR_SCALE
from dropouts.lab.compression.run import (
    CompressionRun,
    check_training_budget,
    estimated_seconds,
    train,
    trained_compression,
)
from dropouts.lab.compression.setup import (
    BATCH,
    CHECKPOINTS,
    VARIANTS,
    CompressionSetup,
    checkpoint_steps,
)
from dropouts.lab.compression.setup import TRAINING_PARAMS as TRAINING_PARAMS
from dropouts.lab.compression.setup import Variant as Variant
from dropouts.lab.compression.setup import _generator as _generator

__all__ = [
    "BATCH",
    "CHECKPOINTS",
    "DATASETS",
    "VARIANTS",
    "Checkpoint",
    "CompressionData",
    "CompressionRun",
    "CompressionSetup",
    "Pruning",
    "accuracy",
    "alive_neurons",
    "check_training_budget",
    "checkpoint_steps",
    "compression_data",
    "estimated_seconds",
    "kept_neurons",
    "kept_weights",
    "load_digits",
    "logits",
    "pruning",
    "train",
    "trained_compression",
]
