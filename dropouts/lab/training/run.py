"""Training: both networks in lockstep (full batch, Adam, cross-entropy), their snapshots as
they go, and the run memoised per setup (:data:`DENSE_RUNS`): its snapshots and the trained
dropout network that the dense view draws."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.budget import check_budget
from dropouts.lab.flights import Flights, Publish, TrainingCancelledError
from dropouts.lab.registry import ParamValue, get_method, get_view
from dropouts.lab.training._seeds import _generator
from dropouts.lab.training.data import GRID, grid_points, training_data
from dropouts.lab.training.networks import Activation, activation_of, build_network
from dropouts.lab.training.setup import TrainingSetup, hidden_shapes
from dropouts.modules import DropConnectLinear, DropoutModule, StandoutLinear

SNAPSHOTS = 50  # about this many snapshots after step 0 (the page's updates)
# The Gaussian test-time rule of DropConnect draws `samples` values per unit and per point; a
# snapshot evaluates the grid, the test and the training points. Their total over a run is kept
# under this many draws by spacing the snapshots further apart (never fewer than step 0 and the
# last step).
EVAL_DRAW_BUDGET = 1_500_000_000
CHUNK_DRAWS = 1 << 20  # draws per evaluation chunk (4 MB of float32: stays in cache)


def _optimizer(network: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(network.parameters(), lr=lr, fused=True)


@dataclass(frozen=True)
class NetworkSnapshot:
    """One network at one step. Losses and accuracies are those of the network in eval mode
    (the method's test-time rule); ``objective`` is the loss the last step minimised (in
    training mode, with its masks; None at step 0). ``boundary`` is P(class 1), ``(G, G)``
    float32, on :func:`grid_points` (rows go up in y, columns right in x)."""

    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    objective: float | None
    boundary: Tensor


@dataclass(frozen=True)
class Snapshot:
    """Both networks after ``step`` optimiser steps (0: as initialised)."""

    step: int
    dropout: NetworkSnapshot
    baseline: NetworkSnapshot
    extent: tuple[float, float, float, float]


def snapshot_steps(setup: TrainingSetup, snapshots: int = SNAPSHOTS) -> tuple[int, ...]:
    """The steps :func:`train` reports: 0, every ``max(1, steps // snapshots)`` steps, and
    the last step. Spaced further apart when the method's test-time rule is costly
    (DropConnect's Gaussian rule: :data:`EVAL_DRAW_BUDGET`)."""
    every = max(1, setup.steps // max(1, snapshots))
    draws = _eval_draws(setup)
    if draws:
        affordable = max(0, EVAL_DRAW_BUDGET // draws - 2)  # besides step 0 and the last
        every = max(every, math.ceil(setup.steps / affordable) if affordable else setup.steps)
    steps = list(range(0, setup.steps, every))
    return (*steps, setup.steps)


def _eval_draws(setup: TrainingSetup) -> int:
    """Gaussian draws one evaluation of the dropout network makes (0 for the other rules)."""
    params = setup.method_params
    if setup.method != "dropconnect" or params["inference"] != "gaussian":
        return 0
    return _eval_points(setup) * setup.width * setup.depth * int(cast(int, params["samples"]))


def _eval_points(setup: TrainingSetup, grid: int = GRID) -> int:
    return setup.n_train + setup.n_test + grid * grid


# The run's time, modelled on one core of a 2-core machine like the CI's (fitted to runs
# measured there: 1.7 s at the defaults, 9.4 s for 200 steps of 1000 points through 4 x 256,
# 30 s for DropConnect's Gaussian rule with 10,000 samples at width 64): a fixed cost per step
# (both networks: Python, the optimisers), multiply-adds, and random draws.
STEP_OVERHEAD_S = 0.002
MAC_RATE = 3e10  # multiply-adds a second (the larger matrices reach it; the small ones are cheap)
DRAW_RATE = 2.5e8  # random draws (DropConnect's masks and its Gaussian rule) a second


def estimated_seconds(setup: TrainingSetup) -> float:
    """How long :func:`train_run` would train ``setup``, about (see :data:`STEP_OVERHEAD_S`)."""
    per_point = 4 * setup.width + (setup.depth - 1) * setup.width * setup.width
    snapshots = len(snapshot_steps(setup))
    macs = 6 * setup.steps * setup.n_train * per_point
    macs += 2 * snapshots * _eval_points(setup) * per_point
    draws = 0
    if setup.method == "dropconnect":
        weights = sum(out * (inp + 1) for inp, out in hidden_shapes(setup.width, setup.depth))
        draws = setup.steps * setup.n_train * weights + snapshots * _eval_draws(setup)
    return setup.steps * STEP_OVERHEAD_S + macs / MAC_RATE + draws / DRAW_RATE


def check_training_budget(setup: TrainingSetup) -> None:
    """A :class:`~dropouts.lab.registry.ParamError` naming the parameter to lower when ``setup``
    would train longer than :data:`dropouts.lab.budget.TRAINING_BUDGET_S`."""
    named = {param.name: param for param in get_view("dense").params}
    knobs = [named[name] for name in ("steps", "n_train", "train_width", "train_depth")]
    if setup.method == "dropconnect" and setup.method_params["inference"] == "gaussian":
        knobs.append(get_method("dropconnect").param("samples"))
    values = setup.view_params() | setup.method_params

    def estimate(changed: Mapping[str, ParamValue]) -> float:
        return estimated_seconds(TrainingSetup.from_params(setup.method, changed, setup.seed))

    check_budget("run", estimate, values, knobs)


class _Run:
    """The data, both networks and their optimisers; one :meth:`step` trains both once."""

    def __init__(self, setup: TrainingSetup, *, baseline: bool = True, grid: int = GRID) -> None:
        self.setup = setup
        self.data = training_data(setup)
        self.networks = {"dropout": build_network(setup, dropout=True)}
        if baseline:
            self.networks["baseline"] = build_network(setup, dropout=False)
        self.optimizers = {
            name: _optimizer(network, setup.lr) for name, network in self.networks.items()
        }
        self.objectives: dict[str, Tensor | None] = dict.fromkeys(self.networks)
        self.dropout_modules = {
            name: [module for module in network.modules() if isinstance(module, DropoutModule)]
            for name, network in self.networks.items()
        }
        self.grid = grid
        self.points = torch.cat(
            [self.data.x_train, self.data.x_test, grid_points(self.data.extent, grid)]
        )
        self.chunk = self._chunk()
        self.done = 0

    def _chunk(self) -> int:
        """Points per forward pass: all at once, or few enough that one layer's Gaussian
        test-time draws (points x width x samples) stay within :data:`CHUNK_DRAWS`."""
        per_point = _eval_draws(self.setup) // (_eval_points(self.setup) * self.setup.depth)
        return self.points.shape[0] if not per_point else max(1, CHUNK_DRAWS // per_point)

    def step(self) -> None:
        x, y = self.data.x_train, self.data.y_train
        for name, network in self.networks.items():  # in training mode but in evaluate()
            optimizer = self.optimizers[name]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(network(x), y)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            self.objectives[name] = loss.detach()
        self.done += 1

    def evaluate(self, name: str, cancelled: Callable[[], bool] | None = None) -> NetworkSnapshot:
        """The network in eval mode on the training, test and grid points; ``cancelled`` is
        asked between chunks (DropConnect's Gaussian rule can take long: a chunk is
        :data:`CHUNK_DRAWS` draws)."""
        network = self.networks[name]
        # Test-time draws (DropConnect's Gaussian rule) come from their own stream, seeded by
        # the step: evaluating never changes the training masks.
        modules = self.dropout_modules[name]
        training_generators = [module.generator for module in modules]
        samples = _generator(self.setup.seed, "test-time", self.done)
        for module in modules:
            module.generator = samples
        network.eval()
        try:
            with torch.no_grad():
                outputs: list[Tensor] = []
                for part in torch.split(self.points, self.chunk):
                    if outputs and cancelled is not None and cancelled():
                        raise TrainingCancelledError  # between chunks: a long evaluation
                    outputs.append(network(part))
                logits = torch.cat(outputs)
        finally:
            network.train()
            for module, generator in zip(modules, training_generators, strict=True):
                module.generator = generator
        n_train, n_test = self.setup.n_train, self.setup.n_test
        train_logits, test_logits = logits[:n_train], logits[n_train : n_train + n_test]
        grid_logits = logits[n_train + n_test :]
        objective = self.objectives[name]
        return NetworkSnapshot(
            train_loss=float(F.cross_entropy(train_logits, self.data.y_train)),
            test_loss=float(F.cross_entropy(test_logits, self.data.y_test)),
            train_accuracy=_accuracy(train_logits, self.data.y_train),
            test_accuracy=_accuracy(test_logits, self.data.y_test),
            objective=None if objective is None else float(objective),
            boundary=torch.softmax(grid_logits, dim=1)[:, 1].reshape(self.grid, self.grid),
        )


def _accuracy(logits: Tensor, labels: Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def train(
    setup: TrainingSetup,
    snapshots: int = SNAPSHOTS,
    *,
    grid: int = GRID,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[Snapshot]:
    """Train the network with the method and without, in lockstep; yield both at step 0 (as
    initialised, before any training), then at :func:`snapshot_steps` ending with the last.

    ``cancelled`` is asked before every step and while evaluating: when it returns True the
    iterator ends (a client that went away). Deterministic: the same setup gives the same
    snapshots.
    """
    try:
        yield from _snapshots(_Run(setup, grid=grid), snapshots, cancelled)
    except TrainingCancelledError:
        return


def _snapshots(
    run: _Run, snapshots: int, cancelled: Callable[[], bool] | None
) -> Iterator[Snapshot]:
    """Step 0 and the reported steps of ``run``; :class:`TrainingCancelledError` when
    ``cancelled`` says stop."""
    reported = set(snapshot_steps(run.setup, snapshots))
    yield _snapshot(run, cancelled)
    for step in range(1, run.setup.steps + 1):
        if cancelled is not None and cancelled():
            raise TrainingCancelledError
        run.step()
        if step in reported:
            yield _snapshot(run, cancelled)


def _snapshot(run: _Run, cancelled: Callable[[], bool] | None = None) -> Snapshot:
    return Snapshot(
        step=run.done,
        dropout=run.evaluate("dropout", cancelled),
        baseline=run.evaluate("baseline", cancelled),
        extent=run.data.extent,
    )


class TrainedNetwork(NamedTuple):
    """The trained dropout network's layers ``(weight, bias)`` (the hidden layers, then the
    output layer; ``weight`` is ``(out, in)`` as in ``nn.Linear``) and its hidden activation.
    Shared by every caller: never write to these tensors."""

    layers: tuple[tuple[Tensor, Tensor], ...]
    activation: Activation


class DenseRun(NamedTuple):
    """A whole run: its snapshots (step 0 to the last) and the trained dropout network."""

    snapshots: tuple[Snapshot, ...]
    network: TrainedNetwork


def train_run(
    setup: TrainingSetup, publish: Publish[Snapshot], cancelled: Callable[[], bool]
) -> DenseRun:
    """The run of ``setup`` (both networks), each snapshot published as it is taken, and the
    dropout network after the last step (:class:`TrainingCancelledError` when ``cancelled``
    says stop)."""
    check_training_budget(setup)
    run = _Run(setup)
    snapshots = []
    for snapshot in _snapshots(run, SNAPSHOTS, cancelled):
        publish(snapshot)
        snapshots.append(snapshot)
    layers = tuple(
        (module.weight.detach().clone(), module.bias.detach().clone())
        for module in run.networks["dropout"]
        if isinstance(module, nn.Linear | DropConnectLinear | StandoutLinear)
        and module.bias is not None
    )
    return DenseRun(tuple(snapshots), TrainedNetwork(layers, activation_of(setup.method)))


# The runs of the dense view, trained once per setup (a training stream and the frames of the
# trained network share one run); the last 8 remembered.
DENSE_RUNS: Flights[TrainingSetup, Snapshot, DenseRun] = Flights(
    "dense", train_run, history=lambda run: run.snapshots, size=8
)


def trained_network(setup: TrainingSetup) -> TrainedNetwork:
    """The network with the method after the whole run of ``setup``: the dropout network at
    :func:`train`'s last snapshot, memoised per setup (:data:`DENSE_RUNS`; trained if it must
    and may be: :func:`dropouts.lab.flights.no_training`)."""
    return DENSE_RUNS.obtain(setup).network
