"""Training a compression run, and sharing it (:mod:`dropouts.lab.compression`).

Training (:func:`train`): minibatches of :data:`~dropouts.lab.compression.BATCH`, Adam with a
learning rate that decays linearly to 0, on the negative ELBO per example
(:func:`dropouts.sparse.elbo_loss`: the data term, the mean cross-entropy, plus
``kl_weight · KL / N``) with the KL weight rising linearly from 0 to 1 over the first ``warmup``
of the run. A plain network of the same shape (no noise, no KL; ``torch.nn.Linear``'s
initialisation, which the ``sbp`` network shares) trains in lockstep on the same minibatches:
the dense reference for the accuracies.

:data:`~dropouts.lab.compression.CHECKPOINTS` checkpoints, evenly spaced from step 0 (as
initialised) to the last step, are taken as it goes (:class:`~dropouts.lab.compression.Checkpoint`).

:data:`COMPRESSION_RUNS` memoises runs by their frozen
:class:`~dropouts.lab.compression.CompressionSetup` (:mod:`dropouts.lab.flights`); a caller
asking for a setup that another is training follows that run: it gets its checkpoints as they
come (the training stream) or waits for its end (the frames), and never trains it a second
time. A run
trains in one torch thread: deterministic in its setup on every machine with the same torch,
whichever caller trains it. Nothing here knows about HTTP.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.budget import check_budget
from dropouts.lab.compression.data import CompressionData, compression_data
from dropouts.lab.compression.networks import SparseNetwork, StructuredNetwork, build_networks
from dropouts.lab.compression.pruning import (
    Checkpoint,
    LayerState,
    accuracy,
    curve,
    effective_weights,
)
from dropouts.lab.compression.setup import (
    BATCH,
    CHECKPOINTS,
    CompressionSetup,
    _generator,
    checkpoint_steps,
)
from dropouts.lab.flights import (
    Cancelled,
    Flights,
    Publish,
    TrainingCancelledError,
    one_thread,
)
from dropouts.lab.registry import ParamValue, get_view
from dropouts.sparse import LinearSVDO, elbo_loss

__all__ = [
    "CACHE_RUNS",
    "COMPRESSION_RUNS",
    "SBP_LR_SCALE",
    "CompressionRun",
    "check_training_budget",
    "estimated_seconds",
    "train",
    "trained_compression",
]

CACHE_RUNS = 4  # a default digits run holds about 20 MB of checkpoints
SBP_LR_SCALE = 3.0


def _layer_states(network: SparseNetwork | StructuredNetwork) -> tuple[LayerState, ...]:
    states = []
    with torch.no_grad():
        for layer in network.layers:
            if isinstance(layer, LinearSVDO):
                assert layer.bias is not None
                states.append(
                    LayerState(
                        layer.theta.detach().clone(),
                        layer.bias.detach().clone(),
                        layer.log_alpha.detach().clone(),
                        layer.log_sigma2.detach().clone(),
                    )
                )
            else:
                linear = cast(nn.Linear, layer)
                states.append(
                    LayerState(linear.weight.detach().clone(), linear.bias.detach().clone(), None)
                )
    return tuple(states)


@dataclass(frozen=True)
class CompressionRun:
    """A finished run: its setup, data, the network's sizes, the checkpoints (the view's
    iterations) and the accuracy-sparsity curve of the last one. Shared by every caller: never
    write to its tensors."""

    setup: CompressionSetup
    data: CompressionData
    sizes: tuple[int, ...]
    checkpoints: tuple[Checkpoint, ...]
    curve: tuple[tuple[float, float, float], ...]
    weight_scale: tuple[float, ...]  # per layer: the heatmaps' colour scale (99th pct |w|)

    @property
    def final(self) -> Checkpoint:
        return self.checkpoints[-1]


# The run's time, modelled on one core of a 2-core machine like the CI's (fitted to runs
# measured there: 4.5 s at the defaults, 27 s for 400 epochs of 3 x 128): a cost per step and
# per weight of the network (the sparse network and its dense reference), more for SBP.
STEP_S = 2.6e-3
WEIGHT_STEP_S = 8.5e-8
SBP_FACTOR = 1.45


def estimated_seconds(setup: CompressionSetup) -> float:
    """How long :func:`train` would train ``setup``, about (see :data:`STEP_S`)."""
    sizes = setup.sizes()
    weights = sum(inputs * outputs for inputs, outputs in itertools.pairwise(sizes))
    seconds = setup.steps * (STEP_S + WEIGHT_STEP_S * weights)
    return seconds * (SBP_FACTOR if setup.variant == "sbp" else 1.0)


def check_training_budget(setup: CompressionSetup) -> None:
    """A :class:`~dropouts.lab.registry.ParamError` naming the parameter to lower when ``setup``
    would train longer than :data:`dropouts.lab.budget.TRAINING_BUDGET_S`."""
    named = {param.name: param for param in get_view("compression").params}
    knobs = [named[name] for name in ("epochs", "width", "depth")]

    def estimate(changed: Mapping[str, ParamValue]) -> float:
        return estimated_seconds(CompressionSetup.from_params(changed, setup.seed))

    check_budget("run", estimate, setup.view_params(), knobs)


def _optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam; structured BP's noise parameters (μ, log σ) at :data:`SBP_LR_SCALE` times the rate."""
    noise = list(model.noise.parameters()) if isinstance(model, StructuredNetwork) else []
    rest = [p for p in model.parameters() if all(p is not q for q in noise)]
    groups = [{"params": rest, "initial_lr": lr}]
    if noise:
        groups.append({"params": noise, "initial_lr": lr * SBP_LR_SCALE})
    optimizer = torch.optim.Adam(groups, lr=lr, fused=True)
    return optimizer


def train(
    setup: CompressionSetup,
    *,
    progress: Callable[[Checkpoint], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CompressionRun:
    """Train the network of ``setup`` and the dense reference in lockstep (not memoised: see
    :func:`trained_compression`); each checkpoint is given to ``progress`` as it is taken.
    ``cancelled`` is asked before every step (``TrainingCancelledError``). A setting over
    the budget is refused before it starts (:func:`check_training_budget`)."""
    check_training_budget(setup)
    with one_thread():
        return _train(setup, progress, cancelled)


def _train(
    setup: CompressionSetup,
    progress: Callable[[Checkpoint], None] | None,
    cancelled: Callable[[], bool] | None,
) -> CompressionRun:
    data = compression_data(setup.dataset)
    network, baseline = build_networks(setup)
    batches = _generator(setup.seed, "batches")
    n_train = int(data.y_train.shape[0])
    total = setup.steps
    steps = checkpoint_steps(setup)
    warmup_steps = setup.warmup * total
    checkpoints: list[Checkpoint] = []
    sums = {"data": 0.0, "baseline": 0.0, "count": 0}
    terms: list[float | None] = [None, None]  # the last data terms (a run with fewer steps
    # than checkpoints repeats a step: its checkpoints repeat the terms)

    def weight_of(step: int) -> float:
        return 1.0 if warmup_steps <= 0 else min(1.0, step / warmup_steps)

    def record(step: int) -> None:
        count = sums["count"]
        if count:
            terms[:] = [sums["data"] / count, sums["baseline"] / count]
        network.eval()
        baseline.eval()
        with torch.no_grad():
            kl = float(network.kl()) / n_train
            score = accuracy(network(data.x_test), data.y_test)
            reference = accuracy(baseline(data.x_test), data.y_test)
            expected: tuple[Tensor, ...] = ()
            snr: tuple[Tensor, ...] = ()
            if isinstance(network, StructuredNetwork):
                split = list(network.sizes[:-1])
                expected = tuple(
                    t.clone() for t in torch.split(network.noise.expected_theta(), split)
                )
                snr = tuple(t.clone() for t in torch.split(network.noise.snr(), split))
        network.train()
        baseline.train()
        checkpoint = Checkpoint(
            index=len(checkpoints),
            step=step,
            epoch=step / setup.steps_per_epoch(),
            kl_weight=weight_of(max(0, step - 1)) if step else 0.0,
            data_term=terms[0],
            kl_term=kl,
            accuracy=score,
            baseline_accuracy=reference,
            baseline_data_term=terms[1],
            layers=_layer_states(network),
            expected_theta=expected,
            snr=snr,
        )
        sums.update(data=0.0, baseline=0.0, count=0)
        checkpoints.append(checkpoint)
        if progress is not None:
            progress(checkpoint)

    network.train()
    baseline.train()
    step = 0
    next_checkpoint = 0

    def catch_up() -> None:
        nonlocal next_checkpoint
        while next_checkpoint < CHECKPOINTS and steps[next_checkpoint] == step:
            record(step)
            next_checkpoint += 1

    catch_up()  # step 0, before the optimisers: their first import takes a second
    optimizers = [_optimizer(network, setup.lr), _optimizer(baseline, setup.lr)]
    while step < total:
        order = torch.randperm(n_train, generator=batches)
        for start in range(0, n_train, BATCH):
            if step >= total:
                break
            if cancelled is not None and cancelled():
                raise TrainingCancelledError
            index = order[start : start + BATCH]
            x, y = data.x_train[index], data.y_train[index]
            decay = 1.0 - step / total
            for optimizer in optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = group["initial_lr"] * decay
            data_term = F.cross_entropy(network(x), y)
            loss = elbo_loss(data_term, network.kl(), n_train, weight_of(step))
            optimizers[0].zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizers[0].step()
            reference = F.cross_entropy(baseline(x), y)
            optimizers[1].zero_grad(set_to_none=True)
            reference.backward()  # type: ignore[no-untyped-call]
            optimizers[1].step()
            sums["data"] += float(data_term.detach())
            sums["baseline"] += float(reference.detach())
            sums["count"] += 1
            step += 1
            catch_up()
    assert len(checkpoints) == CHECKPOINTS
    final = checkpoints[-1]
    scales = tuple(
        max(1e-6, float(torch.quantile(weight.abs().flatten().double(), 0.99)))
        for weight in effective_weights(final)
    )
    return CompressionRun(
        setup=setup,
        data=data,
        sizes=setup.sizes(data),
        checkpoints=tuple(checkpoints),
        curve=curve(final, setup.variant, data),
        weight_scale=scales,
    )


# ---------------------------------------------------------------- the shared runs


def _train_remembered(
    setup: CompressionSetup, publish: Publish[Checkpoint], cancelled: Cancelled
) -> CompressionRun:
    return train(setup, progress=publish, cancelled=cancelled)


# The runs, one per setup at a time (the frames and the training stream of a page share it),
# the last CACHE_RUNS remembered.
COMPRESSION_RUNS: Flights[CompressionSetup, Checkpoint, CompressionRun] = Flights(
    "compression", _train_remembered, history=lambda run: run.checkpoints, size=CACHE_RUNS
)


def trained_compression(
    setup: CompressionSetup,
    *,
    progress: Callable[[Checkpoint], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CompressionRun:
    """The run of ``setup``, memoised (:data:`COMPRESSION_RUNS`); the same object for every
    caller. ``progress`` gets every checkpoint once, in order: as it is taken when the run is
    under way (this call trains it, or follows the caller that does), all at once when it was
    remembered. ``cancelled`` is asked while waiting and before every step
    (``TrainingCancelledError``); the run itself stops only when no other caller waits for it,
    and a stopped run is not remembered. Without either, it trains only where training is
    allowed (:func:`dropouts.lab.flights.no_training`)."""
    if progress is None and cancelled is None:
        return COMPRESSION_RUNS.obtain(setup)
    return COMPRESSION_RUNS.get(setup, progress=progress, cancelled=cancelled)
