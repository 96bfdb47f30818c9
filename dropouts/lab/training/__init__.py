"""Train a small dense network with a dropout method and without, side by side.

A 2-D classification problem (:data:`DATASETS`) with a small noisy training set and a larger
test set from the same distribution: a wide network without dropout learns the training points
by heart and its test loss climbs; the same network with dropout overfits much less.
:func:`train` trains both networks in lockstep (full batch, Adam, cross-entropy) and yields a
:class:`Snapshot` of both as it goes: losses, accuracies and the decision boundary on a grid.

Everything is decided by the :class:`TrainingSetup` (the method, its parameters, the data, the
network, the optimiser and the seed): the data, the initial weights (the same for both
networks), the masks and the test-time samples come from generators seeded from it, so the same
setup gives the same snapshots on every run (same torch version, same thread count), and any
worker can replay a run. Nothing here knows about HTTP.

The package, one concern a module: :mod:`.data` (the 2-D data sets, a run's training and test
sets, the boundary grid), :mod:`.setup` (:class:`TrainingSetup`, checked against the registry),
:mod:`.networks` (the two networks and their initial weights) and :mod:`.run` (the training
loop, its snapshots and the memoised trained network). Every name is re-exported here.
"""

from dropouts.lab.training.data import (
    DATASETS,
    GRID,
    TrainingData,
    grid_points,
    make_dataset,
    training_data,
)
from dropouts.lab.training.networks import Activation, activation_of, build_network, initial_weights
from dropouts.lab.training.run import (
    CHUNK_DRAWS,
    DENSE_RUNS,
    EVAL_DRAW_BUDGET,
    SNAPSHOTS,
    DenseRun,
    NetworkSnapshot,
    Snapshot,
    TrainedNetwork,
    snapshot_steps,
    train,
    train_run,
    trained_network,
)
from dropouts.lab.training.setup import (
    MAX_DROPCONNECT_MASK,
    N_TEST,
    TRAINING_PARAMS,
    TrainingSetup,
    dense_methods,
)

__all__ = [
    "CHUNK_DRAWS",
    "DATASETS",
    "DENSE_RUNS",
    "EVAL_DRAW_BUDGET",
    "GRID",
    "MAX_DROPCONNECT_MASK",
    "N_TEST",
    "SNAPSHOTS",
    "TRAINING_PARAMS",
    "Activation",
    "DenseRun",
    "NetworkSnapshot",
    "Snapshot",
    "TrainedNetwork",
    "TrainingData",
    "TrainingSetup",
    "activation_of",
    "build_network",
    "dense_methods",
    "grid_points",
    "initial_weights",
    "make_dataset",
    "snapshot_steps",
    "train",
    "train_run",
    "trained_network",
    "training_data",
]
