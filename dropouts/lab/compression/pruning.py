"""Checkpoints and their pruning (:mod:`dropouts.lab.compression`).

:data:`~dropouts.lab.compression.CHECKPOINTS` checkpoints record the weights, the ``log α`` (or the
neurons' noise), the two terms of the loss and the test accuracies: they are the view's
iterations (:mod:`dropouts.lab.views.compression`). Pruning is a function of a checkpoint and a
threshold (:func:`kept_weights`, :func:`kept_neurons`), so a threshold redraws without training
again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor

from dropouts.lab.compression.data import CompressionData

THRESHOLD_GRID = tuple(round(-8.0 + 0.2 * k, 1) for k in range(81))  # log α, −8 … 8
SNR_GRID = tuple(round(0.05 * 400 ** (k / 80), 4) for k in range(81))  # 0.05 … 20, geometric
LOG_ALPHA_CLIP = 8.0


@dataclass(frozen=True)
class LayerState:
    """One layer at a checkpoint: ``weight`` ``(out, in)`` (sparse VD's θ), ``bias``, and sparse
    VD's ``log_sigma2`` and ``log_alpha`` ``(out, in)`` (None for structured BP)."""

    weight: Tensor
    bias: Tensor
    log_alpha: Tensor | None
    log_sigma2: Tensor | None = None


@dataclass(frozen=True)
class Checkpoint:
    """The network after ``step`` steps (0: as initialised). ``data_term`` is the mean
    cross-entropy of the minibatches since the previous checkpoint (training mode, with the
    noise; None at step 0), ``kl_term`` the model's KL divided by the training set's size (the
    loss adds it times ``kl_weight``). Accuracies are on the test set, in eval mode: the
    variant's network with nothing pruned, and the dense reference. Structured BP's neurons:
    ``expected_theta`` and ``snr`` of every neuron that feeds a layer, per layer (inputs first)."""

    index: int
    step: int
    epoch: float
    kl_weight: float
    data_term: float | None
    kl_term: float
    accuracy: float
    baseline_accuracy: float
    baseline_data_term: float | None
    layers: tuple[LayerState, ...]
    expected_theta: tuple[Tensor, ...] = ()
    snr: tuple[Tensor, ...] = ()

    @property
    def loss(self) -> float | None:
        """The minimised loss: data term + KL weight × KL term (None at step 0)."""
        if self.data_term is None:
            return None
        return self.data_term + self.kl_weight * self.kl_term


def kept_neurons(checkpoint: Checkpoint, snr: float) -> tuple[Tensor, ...]:
    """Structured BP: per layer, the neurons that feed it and stay (``SNR > snr``), as booleans;
    the output layer's neurons always stay. Empty for sparse VD."""
    return tuple(values > snr for values in checkpoint.snr)


def kept_weights(
    checkpoint: Checkpoint, variant: str, *, threshold: float, snr: float
) -> tuple[Tensor, ...]:
    """Per layer, the weights that stay, ``(out, in)`` booleans: sparse VD keeps
    ``log α < threshold`` (:meth:`LinearSVDO.pruned_mask` is the complement); structured BP keeps
    the weights between neurons that both stay."""
    if variant == "svdo":
        return tuple(cast(Tensor, layer.log_alpha) < threshold for layer in checkpoint.layers)
    neurons = kept_neurons(checkpoint, snr)
    out = []
    for index, layer in enumerate(checkpoint.layers):
        rows = (
            neurons[index + 1]
            if index + 1 < len(neurons)
            else torch.ones(layer.weight.shape[0], dtype=torch.bool)
        )
        out.append(rows[:, None] & neurons[index][None, :])
    return tuple(out)


def logits(
    checkpoint: Checkpoint,
    variant: str,
    x: Tensor,
    *,
    threshold: float | None,
    snr: float | None,
) -> Tensor:
    """The network of ``checkpoint`` at test time on ``x``: sparse VD with ``θ`` where
    ``log α < threshold``, structured BP with each kept neuron times ``E[θ]`` (the removed ones
    times 0). A threshold of None prunes nothing."""
    h = x
    last = len(checkpoint.layers) - 1
    if variant == "svdo":
        for index, layer in enumerate(checkpoint.layers):
            weight = layer.weight
            if threshold is not None:
                weight = weight * (cast(Tensor, layer.log_alpha) < threshold).to(weight.dtype)
            h = F.linear(h, weight, layer.bias)
            if index < last:
                h = torch.relu(h)
        return h
    kept = kept_neurons(checkpoint, snr) if snr is not None else None
    for index, layer in enumerate(checkpoint.layers):
        theta = checkpoint.expected_theta[index]
        if kept is not None:
            theta = theta * kept[index].to(theta.dtype)
        h = F.linear(h * theta, layer.weight, layer.bias)
        if index < last:
            h = torch.relu(h)
    return h


def accuracy(scores: Tensor, labels: Tensor) -> float:
    return float((scores.argmax(dim=1) == labels).to(torch.float64).mean())


def alive_neurons(kept: tuple[Tensor, ...]) -> list[Tensor]:
    """Per layer (input, hidden…, output) the neurons still on a path from an input to an
    output through kept weights: a hidden neuron with no kept weight in or out does nothing."""
    incoming = [torch.ones(kept[0].shape[1], dtype=torch.bool)]
    for mask in kept:  # forward: reachable from a live input
        incoming.append((mask & incoming[-1][None, :]).any(dim=1))
    outgoing = [torch.ones(kept[-1].shape[0], dtype=torch.bool)]
    for mask in reversed(kept):  # backward: reaching a live output
        outgoing.insert(0, (mask & outgoing[0][:, None]).any(dim=0))
    alive = [a & b for a, b in zip(incoming, outgoing, strict=True)]
    alive[-1] = torch.ones_like(alive[-1])  # the classes stay, whatever feeds them
    return alive


@dataclass(frozen=True)
class Pruning:
    """A checkpoint pruned at a threshold: what stays, and what it costs.

    ``kept``: per layer the kept weights ``(out, in)``; ``alive``: per layer of neurons (input
    to output) those in use, as booleans; ``widths_before`` / ``widths_after``: neurons per
    layer (input to output) in the network and still in use after pruning (sparse VD: on a path
    of kept weights from an input to an output; structured BP: not removed);
    ``pruned_share``: the share of the weights removed (biases not counted); ``compression``:
    weights before / weights after (for structured BP, the dense layers of the narrower widths);
    ``dropped_fraction``: what the view counts as dropped, weights (sparse VD) or the neurons
    that feed a layer (structured BP)."""

    kept: tuple[Tensor, ...]
    alive: tuple[Tensor, ...]
    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]
    weights: int
    weights_kept: int
    pruned_share: float
    compression: float
    dropped_fraction: float
    accuracy_before: float
    accuracy_after: float


def pruning(
    checkpoint: Checkpoint,
    variant: str,
    data: CompressionData,
    *,
    threshold: float,
    snr: float,
) -> Pruning:
    """``checkpoint`` pruned at ``threshold`` (sparse VD's log α) or ``snr`` (structured BP),
    with the test accuracy before and after."""
    kept = kept_weights(checkpoint, variant, threshold=threshold, snr=snr)
    before = tuple([kept[0].shape[1], *(mask.shape[0] for mask in kept)])
    weights = sum(mask.numel() for mask in kept)
    if variant == "svdo":
        alive = alive_neurons(kept)
        after = tuple(int(a.sum()) for a in alive)
        remaining = sum(int(mask.sum()) for mask in kept)
        dropped = 1.0 - remaining / weights
    else:
        neurons = kept_neurons(checkpoint, snr)
        alive = [*neurons, torch.ones(before[-1], dtype=torch.bool)]
        after = tuple(int(a.sum()) for a in alive)
        remaining = sum(int(mask.sum()) for mask in kept)
        total_neurons = sum(int(n.numel()) for n in neurons)
        dropped = 1.0 - sum(int(n.sum()) for n in neurons) / total_neurons
    scores_before = logits(checkpoint, variant, data.x_test, threshold=None, snr=None)
    scores_after = logits(checkpoint, variant, data.x_test, threshold=threshold, snr=snr)
    return Pruning(
        kept=kept,
        alive=tuple(alive),
        widths_before=before,
        widths_after=after,
        weights=weights,
        weights_kept=remaining,
        pruned_share=1.0 - remaining / weights,
        compression=weights / remaining if remaining else math.inf,
        dropped_fraction=dropped,
        accuracy_before=accuracy(scores_before, data.y_test),
        accuracy_after=accuracy(scores_after, data.y_test),
    )


def curve(
    checkpoint: Checkpoint, variant: str, data: CompressionData
) -> tuple[tuple[float, float, float], ...]:
    """``(threshold, pruned share, test accuracy)`` over :data:`THRESHOLD_GRID` (sparse VD) or
    :data:`SNR_GRID` (structured BP): accuracy against sparsity as the threshold moves."""
    points = []
    grid = THRESHOLD_GRID if variant == "svdo" else SNR_GRID
    for value in grid:
        threshold, snr = (value, 1.0) if variant == "svdo" else (3.0, value)
        kept = kept_weights(checkpoint, variant, threshold=threshold, snr=snr)
        share = 1.0 - sum(int(mask.sum()) for mask in kept) / sum(m.numel() for m in kept)
        scores = logits(checkpoint, variant, data.x_test, threshold=threshold, snr=snr)
        points.append((value, share, accuracy(scores, data.y_test)))
    return tuple(points)


def effective_weights(checkpoint: Checkpoint) -> list[Tensor]:
    """Per layer the weights the heatmaps show: sparse VD's θ; structured BP's weights times the
    ``E[θ]`` of the neuron each one reads (the weight the test-time network applies)."""
    if not checkpoint.expected_theta:
        return [layer.weight for layer in checkpoint.layers]
    return [
        layer.weight * theta[None, :]
        for layer, theta in zip(checkpoint.layers, checkpoint.expected_theta, strict=True)
    ]
