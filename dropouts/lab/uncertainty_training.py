"""Training Monte Carlo dropout's network (Gal & Ghahramani, ICML 2016): full batch with Adam
on the loss of Gal's code, ``MSE (or cross-entropy) + λ Σ ‖W‖²``, in one torch thread, with
the :class:`Snapshot` of the run every ``steps // SNAPSHOTS`` steps; the :class:`TrainedModel`
it gives. Not memoised here (:func:`dropouts.lab.uncertainty.trained_model`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.flights import TrainingCancelledError, one_thread
from dropouts.lab.uncertainty_data import Data, make_data
from dropouts.lab.uncertainty_network import build_network, draw_masks, weight_penalty
from dropouts.lab.uncertainty_passes import deterministic, predict, sample_passes
from dropouts.lab.uncertainty_setup import (
    CLASS_GRID,
    SNAPSHOT_PASSES,
    SNAPSHOTS,
    UncertaintySetup,
    seeded_generator,
)


@dataclass(frozen=True)
class Snapshot:
    """The network after ``step`` steps (0: as initialised). Losses are the eval-mode network's
    (dropout off: the deterministic answer): mean squared error, or cross-entropy and accuracy;
    ``objective`` the training-mode loss of the last step with its ``λ Σ ‖W‖²`` (None at
    step 0). ``mean`` and ``std``: over :data:`SNAPSHOT_PASSES` passes on the grid (the
    model's spread, without ``τ⁻¹``); for classification ``mean`` is the averaged P(class 1)
    ``(CLASS_GRID, CLASS_GRID)`` and ``std`` its spread."""

    step: int
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    objective: float | None
    mean: Tensor
    std: Tensor


@dataclass(frozen=True)
class TrainedModel:
    """A trained network, its data and the snapshots of its run. Shared by every caller:
    never train it, never write to it (:func:`sample_passes` only reads)."""

    setup: UncertaintySetup
    network: nn.Sequential
    data: Data
    history: tuple[Snapshot, ...] = field(repr=False)


def snapshot_steps(setup: UncertaintySetup, snapshots: int = SNAPSHOTS) -> tuple[int, ...]:
    """Step 0, every ``max(1, steps // snapshots)`` steps, and the last step."""
    every = max(1, setup.steps // max(1, snapshots))
    return (*range(0, setup.steps, every), setup.steps)


class _Run:
    def __init__(self, setup: UncertaintySetup) -> None:
        self.setup = setup
        self.data = make_data(setup)
        self.network = build_network(setup)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=setup.lr)
        self.objective: float | None = None
        self.done = 0

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self.setup.task == "regression":
            return F.mse_loss(output, target)
        return F.cross_entropy(output, target)

    def step(self) -> None:
        self.network.train()
        self.optimizer.zero_grad(set_to_none=True)
        output = self.network(self.data.x_train)
        loss = self.loss(output, self.data.y_train)
        loss = loss + self.setup.weight_decay * weight_penalty(self.network)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.objective = float(loss.detach())
        self.done += 1

    def snapshot(self) -> Snapshot:
        self.network.eval()
        data = self.data
        with torch.no_grad():
            train_out = deterministic(self.network, data.x_train)
            test_out = deterministic(self.network, data.x_test)
        accuracy: tuple[float | None, float | None] = (None, None)
        if self.setup.task == "classification":
            accuracy = (_accuracy(train_out, data.y_train), _accuracy(test_out, data.y_test))
        generator = seeded_generator(self.setup.seed, self.setup.task, "snapshot", self.done)
        masks = draw_masks(self.network, SNAPSHOT_PASSES, generator)
        prediction = predict(sample_passes(self.network, data.grid, masks), self.setup.task)
        mean, std = prediction.mean, prediction.std
        if self.setup.task == "classification":
            mean = mean[:, 1].reshape(CLASS_GRID, CLASS_GRID)
            std = std[:, 1].reshape(CLASS_GRID, CLASS_GRID)
        return Snapshot(
            step=self.done,
            train_loss=float(self.loss(train_out, data.y_train)),
            test_loss=float(self.loss(test_out, data.y_test)),
            train_accuracy=accuracy[0],
            test_accuracy=accuracy[1],
            objective=self.objective,
            mean=mean,
            std=std,
        )


def _accuracy(logits: Tensor, labels: Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def train(
    setup: UncertaintySetup,
    *,
    progress: Callable[[Snapshot], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TrainedModel:
    """Train the network of ``setup`` (not memoised: see :func:`trained_model`); each
    snapshot of :func:`snapshot_steps` is recorded and given to ``progress`` as it is taken.
    ``cancelled`` is asked before every step (``TrainingCancelledError``).

    Always in ONE torch thread (set for the calling thread only, and put back): the sums of
    a step are then done in one order, so the same setup gives the same network whichever
    thread trains it (the frames endpoint's, with the process's threads, or a training
    stream's); the matrices are too small to gain from more threads anyway."""
    with one_thread():
        return _train(setup, progress, cancelled)


def _train(
    setup: UncertaintySetup,
    progress: Callable[[Snapshot], None] | None,
    cancelled: Callable[[], bool] | None,
) -> TrainedModel:
    run = _Run(setup)
    reported = set(snapshot_steps(setup))
    history = [run.snapshot()]
    if progress is not None:
        progress(history[-1])
    for step in range(1, setup.steps + 1):
        if cancelled is not None and cancelled():
            raise TrainingCancelledError
        run.step()
        if step in reported:
            history.append(run.snapshot())
            if progress is not None:
                progress(history[-1])
    run.network.eval()
    for parameter in run.network.parameters():
        parameter.requires_grad_(False)
    return TrainedModel(setup, run.network, run.data, tuple(history))
