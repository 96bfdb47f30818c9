"""Compression by variational dropout, trained: sparse VD prunes weights, structured BP whole
neurons (Molchanov, Ashukha & Vetrov 2017; Neklyudov, Molchanov, Ashukha & Vetrov 2017).

A ReLU network ``inputs → width × depth → classes`` learns a small classification problem:

- ``digits``: the 8 × 8 handwritten digits (1797 images, 10 classes; the UCI optdigits test
  set as scikit-learn ships it, copied under ``dropouts/data/`` with its licence), split once
  and for all into 1347 training and 450 test images (:data:`DATA_SEED`), each pixel
  standardised with the training set's mean and standard deviation;
- ``moons``, ``circles``, ``xor``, ``spiral``: the dense view's 2-D problems
  (:func:`dropouts.training.make_dataset`), :data:`POINTS_TRAIN` and :data:`POINTS_TEST`
  points with noise :data:`POINTS_NOISE`.

The data do not depend on the seed: the seed decides the initial weights, the order of the
minibatches and the noise, so accuracies compare across seeds on the same test set.

Two variants (the registry's ``variant``):

- ``svdo``: every layer a :class:`~dropouts.sparse.LinearSVDO` (a Gaussian multiplicative noise
  ``N(1, α)`` per weight, local reparameterisation); a weight is pruned where
  ``log α ≥ threshold`` (3 in the paper);
- ``sbp``: plain linear layers with :class:`~dropouts.sparse.SBPDropout`'s log-normal noise on
  every neuron that feeds a layer (the input pixels and the hidden neurons, as Neklyudov et al.
  prune LeNet's inputs too); a neuron is removed where its signal-to-noise ratio
  ``E[θ] / std θ`` is at or below the SNR threshold (1 in the paper). One ``SBPDropout``
  holds the noise of all of them (its closed forms are then evaluated once per step instead of
  once per layer, the same distribution); each neuron's equivalent ``log α`` is
  ``log(Var θ / E[θ]²) = −2 log SNR``, so the paper's rule SNR ≤ 1 is ``log α ≥ 0``.

Training (:func:`train`): minibatches of :data:`BATCH`, Adam with a learning rate that decays
linearly to 0, on the negative ELBO per example (:func:`dropouts.sparse.elbo_loss`: the data term,
the mean cross-entropy, plus ``kl_weight · KL / N``) with the KL weight rising linearly from 0 to
1 over the first ``warmup`` of the run. A plain network of the same shape (no noise, no KL;
``torch.nn.Linear``'s initialisation, which the ``sbp`` network shares) trains in lockstep on the
same minibatches: the dense reference for the accuracies.

:data:`CHECKPOINTS` checkpoints, evenly spaced from step 0 (as initialised) to the last step,
record the weights, the ``log α`` (or the neurons' noise), the two terms of the loss and the
test accuracies: they are the view's iterations (:mod:`dropouts.views.compression`). Pruning is a
function of a checkpoint and a threshold (:func:`kept_weights`, :func:`kept_neurons`), so a
threshold redraws without training again.

:func:`trained_compression` memoises runs (``functools.lru_cache`` on the frozen
:class:`CompressionSetup`); a caller asking for a setup that another is training follows that
run: it gets its checkpoints as they come (the training stream) or waits for its end (the
frames), and never trains it a second time. A run trains in one torch thread: deterministic in
its setup on every machine with the same torch, whichever caller trains it. Nothing here knows
about HTTP.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import itertools
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .registry import ParamError, ParamValue, get_view, validate_view_params
from .sparse import LinearSVDO, SBPDropout, elbo_loss
from .training import make_dataset

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
    "TrainingCancelledError",
    "accuracy",
    "alive_neurons",
    "checkpoint_steps",
    "compression_data",
    "kept_neurons",
    "kept_weights",
    "load_digits",
    "logits",
    "pruning",
    "train",
    "trained_compression",
]

Variant = Literal["svdo", "sbp"]
DATASETS: tuple[str, ...] = ("digits", "moons", "circles", "xor", "spiral")
VARIANTS: tuple[Variant, ...] = ("svdo", "sbp")
TRAINING_PARAMS = ("dataset", "variant", "width", "depth", "epochs", "lr", "warmup")

DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.npz"
DIGITS_TEST = 450  # test images; the other 1347 train
DATA_SEED = 1998  # the split (and the 2-D points): the same for every seed of the page
PIXEL_STD_FLOOR = 0.1  # on the 0-1 scale: the always-blank border pixels stay at 0
POINTS_TRAIN = 2000
POINTS_TEST = 1000
POINTS_NOISE = 0.1
BATCH = 128
CHECKPOINTS = 100  # the view's iterations: 0 (as initialised) … 99 (the trained network)
CACHE_RUNS = 4  # a default digits run holds about 20 MB of checkpoints
SVDO_INIT_STD = 0.02  # LinearSVDO's reference initialisation of θ
THRESHOLD_GRID = tuple(round(-8.0 + 0.2 * k, 1) for k in range(81))  # log α, −8 … 8
SNR_GRID = tuple(round(0.05 * 400 ** (k / 80), 4) for k in range(81))  # 0.05 … 20, geometric
LOG_ALPHA_CLIP = 8.0
SBP_LR_SCALE = 3.0


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts``: independent streams for the weights, the
    minibatches and the noise."""
    digest = hashlib.blake2b(repr(("compression", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


# ---------------------------------------------------------------- data


@functools.lru_cache(maxsize=1)
def load_digits() -> tuple[Tensor, Tensor]:
    """The 1797 digits as shipped: images ``(1797, 8, 8)`` uint8 in 0..16, labels ``(1797,)``
    int64 in 0..9 (the order of scikit-learn's ``load_digits``)."""
    with np.load(DIGITS_FILE, allow_pickle=False) as archive:
        images = torch.from_numpy(archive["images"].astype(np.uint8))
        labels = torch.from_numpy(archive["labels"].astype(np.int64))
    return images, labels


@dataclass(frozen=True)
class CompressionData:
    """Training and test sets: ``x`` float32 ``(n, features)``, ``y`` int64 ``(n,)``."""

    dataset: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    classes: int
    image_shape: tuple[int, int] | None  # digits: (8, 8), the inputs' layout

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


@functools.lru_cache(maxsize=len(DATASETS))
def compression_data(dataset: str) -> CompressionData:
    """The data set ``dataset`` (see the module's docstring), the same on every call."""
    if dataset not in DATASETS:
        raise ParamError("dataset", f"{dataset!r} is not a data set", ", ".join(DATASETS))
    if dataset == "digits":
        images, labels = load_digits()
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(DATA_SEED))
        test, train_ = order[:DIGITS_TEST], order[DIGITS_TEST:]
        pixels = images.reshape(len(labels), -1).to(torch.float32) / 16.0
        mean = pixels[train_].mean(dim=0)
        std = pixels[train_].std(dim=0).clamp(min=PIXEL_STD_FLOOR)
        x = (pixels - mean) / std
        return CompressionData(
            dataset, x[train_], labels[train_], x[test], labels[test], 10, (8, 8)
        )
    generator = torch.Generator().manual_seed(DATA_SEED)
    x_train, y_train = make_dataset(dataset, POINTS_TRAIN, POINTS_NOISE, generator)
    x_test, y_test = make_dataset(dataset, POINTS_TEST, POINTS_NOISE, generator)
    return CompressionData(dataset, x_train, y_train, x_test, y_test, 2, None)


# ---------------------------------------------------------------- the setup


def _defaults() -> dict[str, ParamValue]:
    return {param.name: param.default for param in get_view("compression").params}


_DEFAULTS = _defaults()


@dataclass(frozen=True)
class CompressionSetup:
    """Everything a run depends on; frozen and hashable (the cache key). Not in it: the
    thresholds, which prune a trained network without changing it. Validated against the
    registry's ``compression`` view on construction (``ParamError`` naming the field)."""

    dataset: str = cast(str, _DEFAULTS["dataset"])
    variant: str = cast(str, _DEFAULTS["variant"])
    width: int = cast(int, _DEFAULTS["width"])
    depth: int = cast(int, _DEFAULTS["depth"])
    epochs: int = cast(int, _DEFAULTS["epochs"])
    lr: float = cast(float, _DEFAULTS["lr"])
    warmup: float = cast(float, _DEFAULTS["warmup"])
    seed: int = 0

    def __post_init__(self) -> None:
        values = validate_view_params(get_view("compression"), self.view_params())
        object.__setattr__(self, "dataset", str(values["dataset"]))
        object.__setattr__(self, "variant", str(values["variant"]))
        object.__setattr__(self, "width", int(cast(int, values["width"])))
        object.__setattr__(self, "depth", int(cast(int, values["depth"])))
        object.__setattr__(self, "epochs", int(cast(int, values["epochs"])))
        object.__setattr__(self, "lr", float(cast(float, values["lr"])))
        object.__setattr__(self, "warmup", float(cast(float, values["warmup"])))
        if isinstance(self.seed, bool) or not 0 <= int(self.seed) < 2**63:
            raise ParamError("seed", f"{self.seed!r} is out of range", "0 to 2**63 - 1")
        object.__setattr__(self, "seed", int(self.seed))

    def view_params(self) -> dict[str, ParamValue]:
        """The training parameters under the registry's names."""
        return {name: getattr(self, name) for name in TRAINING_PARAMS}

    @classmethod
    def from_params(
        cls, params: Mapping[str, ParamValue], seed: int | None = None
    ) -> CompressionSetup:
        """The setup from a merged parameter dict (the method's ``threshold`` and the view's
        ``snr`` are ignored; missing training parameters take the registry's defaults);
        ``seed``: the argument, else ``params["seed"]``, else 0."""
        values = validate_view_params(
            get_view("compression"), {k: v for k, v in params.items() if k in TRAINING_PARAMS}
        )
        if seed is None:
            seed = int(cast(int, params.get("seed", 0) or 0))
        return cls(
            dataset=str(values["dataset"]),
            variant=str(values["variant"]),
            width=int(cast(int, values["width"])),
            depth=int(cast(int, values["depth"])),
            epochs=int(cast(int, values["epochs"])),
            lr=float(cast(float, values["lr"])),
            warmup=float(cast(float, values["warmup"])),
            seed=seed,
        )

    def sizes(self, data: CompressionData | None = None) -> tuple[int, ...]:
        """Neurons per layer, input to output."""
        data = data or compression_data(self.dataset)
        return (data.features, *([self.width] * self.depth), data.classes)

    def steps_per_epoch(self) -> int:
        return math.ceil(int(compression_data(self.dataset).y_train.shape[0]) / BATCH)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch()


def checkpoint_steps(setup: CompressionSetup) -> tuple[int, ...]:
    """The steps of the :data:`CHECKPOINTS` checkpoints: 0, evenly spaced, the last step."""
    total = setup.steps
    return tuple(round(k * total / (CHECKPOINTS - 1)) for k in range(CHECKPOINTS))


# ---------------------------------------------------------------- the networks


def initial_weights(setup: CompressionSetup) -> list[tuple[Tensor, Tensor]]:
    """``(weight (out, in), bias)`` per layer, ``torch.nn.Linear``'s initialisation (uniform in
    ±1/sqrt(fan_in)), seeded: the dense reference and the ``sbp`` network start from these."""
    generator = _generator(setup.seed, "weights")
    layers = []
    for fan_in, fan_out in zip(setup.sizes()[:-1], setup.sizes()[1:], strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        weight = (torch.rand((fan_out, fan_in), generator=generator) * 2 - 1) * bound
        bias = (torch.rand((fan_out,), generator=generator) * 2 - 1) * bound
        layers.append((weight, bias))
    return layers


class SparseNetwork(nn.Module):
    """``LinearSVDO`` layers with ReLU between them (sparse VD)."""

    def __init__(self, sizes: tuple[int, ...], generator: torch.Generator) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            LinearSVDO(fan_in, fan_out, generator=generator)
            for fan_in, fan_out in itertools.pairwise(sizes)
        )

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < last:
                x = torch.relu(x)
        return x

    def kl(self) -> Tensor:
        terms = [cast(LinearSVDO, layer).kl() for layer in self.layers]
        return torch.stack(terms).sum()


class StructuredNetwork(nn.Module):
    """Linear layers, each fed through ``SBPDropout``'s per-neuron noise (structured BP); one
    ``SBPDropout`` holds the noise of every neuron that feeds a layer (inputs, hidden)."""

    def __init__(self, sizes: tuple[int, ...], generator: torch.Generator) -> None:
        super().__init__()
        self.sizes = sizes
        self.layers = nn.ModuleList(
            nn.Linear(fan_in, fan_out) for fan_in, fan_out in itertools.pairwise(sizes)
        )
        self.noise = SBPDropout(sum(sizes[:-1]), generator=generator)

    def multipliers(self) -> list[Tensor]:
        """Each layer's input multipliers: one draw of θ per neuron in training (shared by the
        batch, as the reference code), ``E[θ] ⊙ 1[SNR > 1]`` in eval."""
        if self.training:
            theta = self.noise.sample_theta()
        else:
            theta = self.noise.expected_theta() * self.noise.kept_mask().to(self.noise.mu.dtype)
        return list(torch.split(theta, list(self.sizes[:-1])))

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.layers) - 1
        for index, (layer, theta) in enumerate(zip(self.layers, self.multipliers(), strict=True)):
            x = layer(x * theta)
            if index < last:
                x = torch.relu(x)
        return x

    def kl(self) -> Tensor:
        return self.noise.kl()


def build_networks(setup: CompressionSetup) -> tuple[SparseNetwork | StructuredNetwork, nn.Module]:
    """The network of the variant and the dense reference, seeded from the setup."""
    sizes = setup.sizes()
    noise = _generator(setup.seed, "noise")
    weights = initial_weights(setup)
    network: SparseNetwork | StructuredNetwork
    if setup.variant == "svdo":
        network = SparseNetwork(sizes, noise)
        init = _generator(setup.seed, "svdo init")
        with torch.no_grad():
            for layer in network.layers:
                cast(LinearSVDO, layer).theta.normal_(0.0, SVDO_INIT_STD, generator=init)
    else:
        network = StructuredNetwork(sizes, noise)
        with torch.no_grad():
            for layer, (weight, bias) in zip(network.layers, weights, strict=True):
                cast(nn.Linear, layer).weight.copy_(weight)
                cast(nn.Linear, layer).bias.copy_(bias)
    modules: list[nn.Module] = []
    for index, (weight, bias) in enumerate(weights):
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
        modules.append(linear)
        if index < len(weights) - 1:
            modules.append(nn.ReLU())
    return network, nn.Sequential(*modules)


# ---------------------------------------------------------------- checkpoints and pruning


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


# ---------------------------------------------------------------- training


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


class TrainingCancelledError(Exception):
    """The caller's ``cancelled()`` said stop; nothing is cached."""


@contextmanager
def _one_thread() -> Iterator[None]:
    """Train in one torch thread (as the app's training streams do): the matrices are small,
    and the same thread count gives the same numbers whoever trains the run."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def effective_weights(checkpoint: Checkpoint) -> list[Tensor]:
    """Per layer the weights the heatmaps show: sparse VD's θ; structured BP's weights times the
    ``E[θ]`` of the neuron each one reads (the weight the test-time network applies)."""
    if not checkpoint.expected_theta:
        return [layer.weight for layer in checkpoint.layers]
    return [
        layer.weight * theta[None, :]
        for layer, theta in zip(checkpoint.layers, checkpoint.expected_theta, strict=True)
    ]


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
    ``cancelled`` is asked before every step (``TrainingCancelledError``)."""
    with _one_thread():
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


@dataclass
class _Flight:
    """A run being trained: its checkpoints so far, then its end (the run or the error)."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    followers: int = 0
    done: bool = False
    run: CompressionRun | None = None
    error: BaseException | None = None
    condition: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, checkpoint: Checkpoint) -> None:
        with self.condition:
            self.checkpoints.append(checkpoint)
            self.condition.notify_all()

    def finish(self, run: CompressionRun | None, error: BaseException | None) -> None:
        with self.condition:
            self.run, self.error, self.done = run, error, True
            self.condition.notify_all()


@dataclass(frozen=True)
class _Hooks:
    progress: Callable[[Checkpoint], None] | None = None
    cancelled: Callable[[], bool] | None = None


_HOOKS: contextvars.ContextVar[_Hooks] = contextvars.ContextVar("compression_hooks")
_FLIGHTS: dict[CompressionSetup, _Flight] = {}
_FLIGHTS_LOCK = threading.Lock()
_WAIT_S = 0.1  # a follower checks its own cancellation this often


@functools.lru_cache(maxsize=CACHE_RUNS)
def _memoised(setup: CompressionSetup) -> CompressionRun:
    """The one place a setup is trained for the cache; the hooks of the caller that trains it
    come through :data:`_HOOKS` (they do not change the result, so not the key)."""
    hooks = _HOOKS.get(_Hooks())
    return train(setup, progress=hooks.progress, cancelled=hooks.cancelled)


def trained_compression(
    setup: CompressionSetup,
    *,
    progress: Callable[[Checkpoint], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CompressionRun:
    """The run of ``setup``, memoised (``functools.lru_cache``, :data:`CACHE_RUNS` setups); the
    same object for every caller. ``progress`` gets every checkpoint once, in order: as it is
    taken when the run is under way (this call trains it, or follows the caller that does), all
    at once when it was cached. ``cancelled`` is asked while waiting and before every step
    (``TrainingCancelledError``); the run itself stops only when no other caller waits for it,
    and a stopped run is not cached."""
    delivered = 0

    def deliver(checkpoints: list[Checkpoint] | tuple[Checkpoint, ...]) -> None:
        nonlocal delivered
        for checkpoint in checkpoints:
            if checkpoint.index >= delivered:
                delivered = checkpoint.index + 1
                if progress is not None:
                    progress(checkpoint)

    def stop() -> bool:
        return cancelled is not None and cancelled()

    while True:
        with _FLIGHTS_LOCK:
            flight = _FLIGHTS.get(setup)
            leading = flight is None
            if flight is None:
                flight = _FLIGHTS[setup] = _Flight()
            else:
                flight.followers += 1
        if leading:
            return _lead(setup, flight, deliver, stop)
        try:
            run = _follow(flight, deliver, stop)
        except TrainingCancelledError:
            if stop():
                raise
            continue  # the caller that trained it went away: train it ourselves
        finally:
            with flight.condition:
                flight.followers -= 1
        return run


def _lead(
    setup: CompressionSetup,
    flight: _Flight,
    deliver: Callable[[list[Checkpoint] | tuple[Checkpoint, ...]], None],
    stop: Callable[[], bool],
) -> CompressionRun:
    def relay(checkpoint: Checkpoint) -> None:
        flight.publish(checkpoint)
        deliver([checkpoint])

    def cancelled() -> bool:
        with flight.condition:
            alone = flight.followers == 0
        return alone and stop()

    token = _HOOKS.set(_Hooks(relay, cancelled))
    try:
        run = _memoised(setup)
    except BaseException as error:
        with _FLIGHTS_LOCK:
            _FLIGHTS.pop(setup, None)
        flight.finish(None, error)
        raise
    finally:
        _HOOKS.reset(token)
    with _FLIGHTS_LOCK:
        _FLIGHTS.pop(setup, None)
    flight.finish(run, None)
    deliver(run.checkpoints)  # cached: the whole record at once
    return run


def _follow(
    flight: _Flight,
    deliver: Callable[[list[Checkpoint] | tuple[Checkpoint, ...]], None],
    stop: Callable[[], bool],
) -> CompressionRun:
    seen = 0
    while True:
        with flight.condition:
            while len(flight.checkpoints) <= seen and not flight.done:
                if stop():
                    raise TrainingCancelledError
                flight.condition.wait(_WAIT_S)
            fresh = flight.checkpoints[seen:]
            done, run, error = flight.done, flight.run, flight.error
        seen += len(fresh)
        deliver(fresh)
        if done:
            if run is not None:
                deliver(run.checkpoints)
                return run
            if isinstance(error, TrainingCancelledError):
                raise TrainingCancelledError
            raise RuntimeError("the compression run failed") from error
