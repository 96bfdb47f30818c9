"""The dense view's training (``network=trained``): the network with a dropout method and
without, trained side by side (:mod:`dropouts.lab.training`; dropout: Srivastava et al., 2014,
"Dropout: A Simple Way to Prevent Neural Networks from Overfitting", JMLR 15).

Its events:

- ``info`` at once, before any training step: the setup and the data (the page plots the
  points while the networks train);
- ``snapshot`` at step 0 and then every few steps (:func:`dropouts.lab.training.snapshot_steps`):
  both networks' losses, accuracies and decision boundaries;
- ``done`` ``{"step"}`` after the last step.

The run is :data:`dropouts.lab.training.DENSE_RUNS`'s, shared with the frames of the trained
network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from dropouts.lab.flights import Admit
from dropouts.lab.registry import ParamError, ParamValue, get_method
from dropouts.lab.trained.base import (
    DECIMALS,
    Post,
    Stopped,
    Stream,
    Training,
    follow,
    needs_training,
)
from dropouts.lab.training import (
    DENSE_RUNS,
    GRID,
    Snapshot,
    TrainingData,
    TrainingSetup,
    activation_of,
    dense_methods,
    snapshot_steps,
    training_data,
)
from dropouts.lab.training.run import check_training_budget


def _rounded(values: list[float], decimals: int = DECIMALS) -> list[float]:
    return [round(value, decimals) for value in values]


def info_json(setup: TrainingSetup, data: TrainingData) -> dict[str, Any]:
    """The ``info`` event: the setup (the method's parameters, the training parameters under
    the registry's names, the seed), the snapshot steps, the grid and its extent
    ``[x_min, x_max, y_min, y_max]``, and the points ``{"x": [[x, y], …], "y": [label, …]}``
    of the training and the test set."""

    def points(x: Any, y: Any) -> dict[str, Any]:
        return {
            "x": [_rounded(row) for row in x.double().tolist()],
            "y": [int(label) for label in y.tolist()],
        }

    return {
        "method": setup.method,
        "params": setup.method_params,
        "training": setup.view_params(),
        "seed": setup.seed,
        "n_test": setup.n_test,
        "activation": activation_of(setup.method),
        "steps": setup.steps,
        "snapshot_steps": list(snapshot_steps(setup)),
        "grid": GRID,
        "extent": list(data.extent),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The ``snapshot`` event: ``step`` and, for ``dropout`` and ``baseline``, the eval-mode
    ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy``, the training-mode
    ``objective`` of the last step (null at step 0) and ``boundary``: G rows (y from y_min up)
    of G values (x from x_min right) of P(class 1), in whole percents (0-100)."""

    def network(name: str) -> dict[str, Any]:
        shot = getattr(snapshot, name)
        percent = shot.boundary.mul(100).round_().to(torch.int32)
        return {
            "train_loss": round(shot.train_loss, DECIMALS),
            "test_loss": round(shot.test_loss, DECIMALS),
            "train_accuracy": round(shot.train_accuracy, DECIMALS),
            "test_accuracy": round(shot.test_accuracy, DECIMALS),
            "objective": None if shot.objective is None else round(shot.objective, DECIMALS),
            "boundary": percent.tolist(),
        }

    return {"step": snapshot.step, "dropout": network("dropout"), "baseline": network("baseline")}


class DenseTraining(Training):
    """Both networks of :class:`TrainingSetup`, side by side; the methods whose registry
    entry has the dense view."""

    summary: ClassVar[str] = "the dense network with the method and without, side by side"

    def check_method(self, method_id: str) -> None:
        allowed = ", ".join(dense_methods())
        try:
            chosen = get_method(method_id)
        except KeyError:
            raise ParamError("method", f"unknown method {method_id!r}", allowed) from None
        if "dense" not in chosen.views:
            raise ParamError("method", f"{chosen.id} does not train in the dense view", allowed)

    def stream(self, method_id: str | None, params: Mapping[str, ParamValue], seed: int) -> Stream:
        assert method_id is not None  # takes_method
        setup = TrainingSetup.from_params(method_id, params, seed)
        check_training_budget(setup)  # a plain 422 naming the field, before any stream
        data = training_data(setup)

        def work(post: Post, stopped: Stopped, admit: Admit) -> None:
            run = follow(
                DENSE_RUNS, setup, post, stopped, admit, lambda s: ("snapshot", snapshot_json(s))
            )
            if not stopped():
                post("done", {"step": run.snapshots[-1].step})

        first = [("info", info_json(setup, data))]
        return Stream(first, work, trains=needs_training(DENSE_RUNS, setup))


TRAINING = DenseTraining()
