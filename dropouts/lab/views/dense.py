"""The dense view: a small fully connected network, its neurons and connections dropped
iteration by iteration, the ensemble of sub-networks that dropout trains, and the test-time
rules against that ensemble's mean.

The network has two inputs, ``depth`` hidden layers of ``width`` neurons and two outputs (a
softmax): the toy network has fixed random weights (always the same, He or LeCun initialised);
the trained one is the network of the dense view's training run (:mod:`dropouts.lab.training`),
drawn with the first ``width`` neurons of each layer. Every frame is one forward pass of one
input example through the network with the method's masks drawn from the frame's generator:

- standard dropout: a 0/1 mask per hidden neuron, ×1/(1-p) on the survivors when inverted;
- Gaussian dropout: a multiplier N(1, σ²) per hidden neuron;
- AlphaDropout (a SELU network): dropped neurons set to α′, then the affine map a·x + b;
- DropConnect: a 0/1 mask per connection INTO each hidden layer (and per bias);
- Standout: each hidden neuron kept with its own probability π, from its input.

The theory holds what does not change from one iteration to the next: the network, the
test-time network (the method's rule), the mean of the outputs over many sampled
sub-networks (and, for small networks with binary masks, exactly over all of them), the
DropConnect unit's pre-activation against Wan et al.'s Gaussian, and AlphaDropout's
activation histograms against plain dropout's.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as TF
from torch import Tensor

from dropouts import functional as F
from dropouts.functional.elementwise import SELU_ALPHA_PRIME
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.dense import TRAINING
from dropouts.lab.views.base import (
    Array,
    Frame,
    Json,
    JsonArray,
    Scene,
    View,
    frame_generator,
    number,
)

DENSE_METHODS: tuple[str, ...] = ("standard", "gaussian", "alpha", "dropconnect", "standout")
ENSEMBLE_SAMPLES = 2000  # sub-networks averaged for the ensemble mean
EXACT_LIMIT = 12  # binary masks on at most this many hidden neurons: all 2^n enumerated
STANDOUT_EXACT_LIMIT = 12  # Standout's expectation: masks of the feeding layers enumerated
STANDOUT_SAMPLES = 4_000  # otherwise: training passes averaged, at most this many
STANDOUT_WORK = 40_000_000  # and at most this many multiply-adds (a search asks it 40 times)
STRIP = 8  # sub-networks of the last iterations shown in the strip
UNIT_SAMPLES = 4000  # DropConnect: masks drawn for the pre-activation histogram
HISTOGRAM_BINS = 40
ALPHA_BATCH = 4000  # AlphaDropout: inputs whose activations make the histograms
TOY_SEED = 2013  # the toy network's weights: fixed, whatever the page's seed
TOY_INPUT = (0.8, -0.35)
# The ensemble, the DropConnect unit's masks and AlphaDropout's batch are drawn from streams of
# their own (fixed: the theory does not depend on the page's seed, only on the setting).
THEORY_SEED = 7
ENSEMBLE_ITERATION = 10**9


@dataclass(frozen=True)
class Network:
    """Layers ``(weight (out, in), bias (out,))`` from input to output, and the activation."""

    layers: tuple[tuple[Tensor, Tensor], ...]
    activation: str  # "relu" or "selu" (hidden layers); the output is linear, then softmax
    source: str  # "toy" or "trained"
    shown: tuple[int, ...]  # neurons drawn per layer, input to output
    sizes: tuple[int, ...]  # neurons per layer, input to output


def _activation(name: str, x: Tensor) -> Tensor:
    return TF.selu(x) if name == "selu" else TF.relu(x)


def toy_network(width: int, depth: int, selu: bool) -> Network:
    """Fixed random weights (He initialisation for ReLU, LeCun for SELU), the same for every
    seed of the page: the masks change, the network does not."""
    generator = torch.Generator().manual_seed(TOY_SEED)
    sizes = (2, *([width] * depth), 2)
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        gain = 1.0 if selu else 2.0
        weight = torch.randn((fan_out, fan_in), generator=generator, dtype=torch.float64)
        weight *= math.sqrt(gain / fan_in)
        bias = 0.1 * torch.randn((fan_out,), generator=generator, dtype=torch.float64)
        layers.append((weight, bias))
    return Network(tuple(layers), "selu" if selu else "relu", "toy", sizes, sizes)


@dataclass
class Pass:
    """One forward pass of a batch: per layer (input, hidden…, output) the values after the
    method and, for hidden layers, before it, the mask and (Standout) the keep probability;
    per hidden layer's incoming connections, DropConnect's mask."""

    values: list[Tensor] = field(default_factory=list)  # (B, n) per layer
    before: list[Tensor | None] = field(default_factory=list)
    masks: list[Tensor | None] = field(default_factory=list)  # (B, n) per layer
    keep: list[Tensor | None] = field(default_factory=list)  # Standout's π
    connections: list[Tensor | None] = field(default_factory=list)  # (B, out, in + 1)

    @property
    def output(self) -> Tensor:
        """Class probabilities ``(B, 2)``."""
        return torch.softmax(self.values[-1], dim=-1)


def forward(
    network: Network,
    x: Tensor,
    method: str,
    params: Mapping[str, ParamValue],
    generator: torch.Generator | None,
    *,
    training: bool = True,
) -> Pass:
    """``x`` ``(B, 2)`` through the network with the method on its hidden layers."""
    record = Pass(values=[x], before=[None], masks=[None], keep=[None], connections=[None])
    act = network.activation
    hidden = len(network.layers) - 1
    h = x
    for index, (weight, bias) in enumerate(network.layers):
        if index == hidden:  # the output layer: no dropout
            record.values.append(TF.linear(h, weight, bias))
            for column in (record.before, record.masks, record.keep, record.connections):
                column.append(None)
            break
        pre = TF.linear(h, weight, bias)
        if method == "dropconnect":
            result = F.dropconnect_linear(
                h, weight, bias, number(params, "p"),
                activation=lambda u: _activation(act, u),
                inference="gaussian" if params["inference"] == "gaussian" else "mean",
                samples=int(number(params, "samples")),
                training=training, generator=generator, return_mask=True,
            )  # fmt: skip
            assert isinstance(result, tuple)
            out, connection = result
            record.connections.append(connection.expand(h.shape[0], -1, -1))
            record.before.append(_activation(act, pre))
            record.masks.append(None)
            record.keep.append(None)
        elif method == "standout":
            keep = F.standout_keep_probability(
                h, pre, alpha=number(params, "alpha"), beta=number(params, "beta"),
                form="tied" if params["form"] == "tied" else "additive",
            )  # fmt: skip
            result = F.standout_linear(
                h, weight, bias, alpha=number(params, "alpha"), beta=number(params, "beta"),
                form="tied" if params["form"] == "tied" else "additive",
                activation=lambda u: _activation(act, u),
                training=training, generator=generator, return_mask=True,
            )  # fmt: skip
            assert isinstance(result, tuple)
            out, mask = result
            record.before.append(_activation(act, pre))
            record.masks.append(mask)
            record.keep.append(keep)
            record.connections.append(None)
        else:
            activated = _activation(act, pre)
            out, mask = _unit_dropout(activated, method, params, generator, training)
            record.before.append(activated)
            record.masks.append(mask)
            record.keep.append(None)
            record.connections.append(None)
        record.values.append(out)
        h = out
    return record


def _unit_dropout(
    h: Tensor,
    method: str,
    params: Mapping[str, ParamValue],
    generator: torch.Generator | None,
    training: bool,
) -> tuple[Tensor, Tensor]:
    """The output and the per-neuron mask of a method that acts on neurons."""
    p = number(params, "p")
    if method == "standard":
        result = F.dropout(
            h, p, scale=params["scaling"] == "inverted", training=training,
            generator=generator, return_mask=True,
        )  # fmt: skip
    elif method == "gaussian":
        sigma = params["sigma"]
        result = F.gaussian_dropout(
            h, p, sigma=None if sigma is None else float(sigma), training=training,
            generator=generator, return_mask=True,
        )  # fmt: skip
    elif method == "alpha":
        result = F.alpha_dropout(h, p, training=training, generator=generator, return_mask=True)
    else:
        raise KeyError(f"{method!r} has no dense view")
    assert isinstance(result, tuple)
    out, mask = result
    if method == "standard" and not training and params["scaling"] == "original":
        out = h * (1.0 - p)  # the paper's test-time rule: scale by the keep probability
        mask = torch.full_like(h, 1.0 - p)
    return out, mask.expand_as(h)


# ---------------------------------------------------------------- the ensemble


def exact_mean(
    network: Network, x: Tensor, method: str, params: Mapping[str, ParamValue]
) -> Tensor | None:
    """The output for ``x`` ``(1, 2)`` averaged over EVERY sub-network, each weighted by its
    probability: for binary masks on neurons (standard dropout, AlphaDropout, Standout) with
    at most :data:`EXACT_LIMIT` hidden neurons; None otherwise. All 2^n patterns go through
    the network at once, as one batch."""
    if method not in ("standard", "alpha", "standout"):
        return None
    sizes = network.sizes[1:-1]
    units = sum(sizes)
    if units > EXACT_LIMIT:
        return None
    patterns = torch.tensor(list(itertools.product((0.0, 1.0), repeat=units)), dtype=x.dtype)
    h = x.expand(patterns.shape[0], -1)
    probability = torch.ones(patterns.shape[0], dtype=x.dtype)
    start = 0
    for size, (weight, bias) in zip(sizes, network.layers[:-1], strict=True):
        kept = patterns[:, start : start + size]
        start += size
        pre = TF.linear(h, weight, bias)
        activated = _activation(network.activation, pre)
        if method == "standout":
            keep = F.standout_keep_probability(
                h, pre, alpha=number(params, "alpha"), beta=number(params, "beta"),
                form="tied" if params["form"] == "tied" else "additive",
            )  # fmt: skip
            probability = probability * torch.where(kept.bool(), keep, 1.0 - keep).prod(dim=1)
            h = activated * kept
        else:
            p = number(params, "p")
            odds = torch.where(kept.bool(), 1.0 - p, p).prod(dim=1)
            probability = probability * odds
            h = _fixed_mask(activated, kept, method, params)
    outputs = torch.softmax(TF.linear(h, *network.layers[-1]), dim=-1)
    return (probability[:, None] * outputs).sum(dim=0, keepdim=True)


def _fixed_mask(h: Tensor, kept: Tensor, method: str, params: Mapping[str, ParamValue]) -> Tensor:
    """``h`` under a given 0/1 pattern, as the method's training pass would transform it."""
    p = number(params, "p")
    if method == "standard":
        scale = 1.0 / (1.0 - p) if params["scaling"] == "inverted" and p < 1.0 else 1.0
        return h * kept * scale
    a, b = F.alpha_dropout_affine(p)
    return torch.where(kept.bool(), h * a + b, a * SELU_ALPHA_PRIME + b)


@dataclass(frozen=True)
class DenseTheory:
    method: str
    network: Network
    x: Tensor  # (1, 2): the input example
    test: Pass  # the test-time network (the method's rule)
    expected_dropped_fraction: float
    ensemble_mean: tuple[float, float]  # over ENSEMBLE_SAMPLES sampled sub-networks
    ensemble_std: tuple[float, float]  # of the sampled outputs (for the standard error)
    exact: tuple[float, float] | None  # over every sub-network, when small and binary
    extra: dict[str, Json]  # the method's own panel (DropConnect unit, AlphaDropout histograms)


def _histogram(values: Tensor, low: float, high: float) -> list[int]:
    counts = torch.histc(values.double().clamp(low, high), bins=HISTOGRAM_BINS, min=low, max=high)
    return [int(c) for c in counts.tolist()]


def _edges(low: float, high: float) -> list[float]:
    return [low + (high - low) * k / HISTOGRAM_BINS for k in range(HISTOGRAM_BINS + 1)]


def dropconnect_unit(
    network: Network, test: Pass, params: Mapping[str, ParamValue], seed: int
) -> dict[str, Json]:
    """Wan et al.'s test-time panel for one hidden unit, the first of the LAST hidden layer
    (the most incoming connections): its pre-activation ``u = (M * W) v + m_b * b`` over many
    masks, for the layer's input ``v`` at test time, against the moment-matched Gaussian, and
    what each test-time rule outputs."""
    layer = len(network.layers) - 2  # the last hidden layer
    weight, bias = network.layers[layer]
    v = test.values[layer][:1]
    p = number(params, "p")
    generator = frame_generator(seed, ENSEMBLE_ITERATION + 1)
    batch = v.expand(UNIT_SAMPLES, -1)
    result = F.dropconnect_linear(
        batch, weight[:1], bias[:1], p, generator=generator, return_mask=True
    )
    assert isinstance(result, tuple)
    pre = result[0][:, 0]
    mean, variance = F.dropconnect_moments(v, weight[:1], bias[:1], p, scale=True)
    mu, var = float(mean[0, 0]), float(variance[0, 0])
    sd = math.sqrt(var)
    low, high = mu - 4 * sd - 1e-6, mu + 4 * sd + 1e-6
    edges = torch.tensor(_edges(low, high), dtype=torch.float64)
    if sd > 0:
        cdf = 0.5 * torch.erfc(-(edges - mu) / (sd * math.sqrt(2.0)))
    else:
        cdf = (edges >= mu).double()
    gaussian = (UNIT_SAMPLES * cdf.diff()).tolist()
    samples = int(number(params, "samples"))
    noise = torch.randn((samples,), generator=generator, dtype=torch.float64)
    act = network.activation
    return {
        "layer": layer + 1,
        "unit": 0,
        "inputs": int(weight.shape[1]) + 1,
        "edges": _edges(low, high),
        "sampled": _histogram(pre, low, high),
        "gaussian": gaussian,
        "sample_mean": float(pre.mean()),
        "sample_variance": float(pre.var(unbiased=True)),
        "moment_mean": mu,
        "moment_variance": var,
        "mean_rule": float(_activation(act, torch.tensor(mu))),
        "gaussian_rule": float(_activation(act, mu + sd * noise).mean()),
        "sampled_output": float(_activation(act, pre).mean()),
        "samples": samples,
    }


def alpha_histograms(params: Mapping[str, ParamValue], seed: int) -> dict[str, Json]:
    """A SELU layer's activations at its fixed point (mean 0, variance 1: Klambauer et al.'s
    self-normalising regime), before dropout, after AlphaDropout and after plain dropout at the
    same p: AlphaDropout keeps the mean and the variance; plain dropout, even inverted, inflates
    the variance (to 1 / (1 - p)) and piles units on 0."""
    generator = frame_generator(seed, ENSEMBLE_ITERATION + 2)
    before = torch.randn((ALPHA_BATCH,), generator=generator, dtype=torch.float64)
    p = number(params, "p")
    alpha = F.alpha_dropout(before, p, generator=generator)
    plain = F.dropout(before, p, generator=generator)
    assert isinstance(alpha, Tensor) and isinstance(plain, Tensor)
    low, high = -4.0, 4.0

    def summary(values: Tensor) -> dict[str, Json]:
        return {
            "counts": _histogram(values, low, high),
            "mean": float(values.mean()),
            "variance": float(values.var(unbiased=True)),
        }

    return {
        "edges": _edges(low, high),
        "before": summary(before),
        "alpha": summary(alpha),
        "plain": summary(plain),
        "units": ALPHA_BATCH,
        "dropped_value": F.alpha_dropout_affine(p)[0] * SELU_ALPHA_PRIME
        + F.alpha_dropout_affine(p)[1]
        if p < 1.0
        else 0.0,
    }


def ensemble(
    network: Network, x: Tensor, method: str, params: Mapping[str, ParamValue], seed: int
) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of the output over :data:`ENSEMBLE_SAMPLES` sampled
    sub-networks (training-mode passes, a fresh mask for each)."""
    generator = frame_generator(seed, ENSEMBLE_ITERATION)
    outputs = forward(network, x.expand(ENSEMBLE_SAMPLES, -1), method, params, generator).output
    return outputs.mean(dim=0), outputs.std(dim=0)


def expected_dropped(
    network: Network, x: Tensor, method: str, params: Mapping[str, ParamValue]
) -> float:
    """Expected fraction of hidden neurons (connections, for DropConnect) that a training pass
    of ``x`` ``(1, 2)`` drops."""
    if method == "gaussian":
        return 0.0
    if method == "standout":
        return standout_expected_dropped(network, x, params)
    return number(params, "p")


def standout_expected_dropped(
    network: Network, x: Tensor, params: Mapping[str, ParamValue]
) -> float:
    """Standout's expected share of hidden neurons dropped by a training pass of ``x``.

    A layer's keep probability depends on its input, which is the previous layer's MASKED
    output (Ba & Frey 2013, eq. 2: ``P(m_j = 1 | a) = f(sum_i pi_ji a_i)`` with ``a`` the kept
    activities), so ``E[1 - pi_2(h_1)]`` is not ``1 - pi_2(E[h_1])``: the test-time pass gives
    the latter. The expectation is taken over the masks of every hidden layer but the last
    (the last one's masks reach no keep probability): exactly, over every pattern weighted by
    its probability, when they are at most :data:`STANDOUT_EXACT_LIMIT` neurons; otherwise as
    the mean of ``1 - pi`` over :func:`standout_samples` sampled training passes (the
    probabilities averaged, not the masks: a smaller error for the same passes)."""
    feeding = sum(network.sizes[1:-2])  # hidden neurons whose masks reach a later layer
    if feeding <= STANDOUT_EXACT_LIMIT:
        return _standout_enumerated(network, x, params)
    generator = frame_generator(THEORY_SEED, ENSEMBLE_ITERATION + 4)
    samples = standout_samples(network)
    record = forward(network, x.expand(samples, -1), "standout", params, generator)
    keeps = torch.cat([k for k in record.keep if k is not None], dim=1)
    return float(1.0 - keeps.mean())


def standout_samples(network: Network) -> int:
    """Passes for Standout's sampled expectation: :data:`STANDOUT_SAMPLES`, fewer for a large
    network (at most :data:`STANDOUT_WORK` multiply-adds; at least 500 passes)."""
    per_pass = sum(int(weight.numel()) for weight, _ in network.layers)
    return max(500, min(STANDOUT_SAMPLES, STANDOUT_WORK // per_pass))


def _standout_enumerated(network: Network, x: Tensor, params: Mapping[str, ParamValue]) -> float:
    """:func:`standout_expected_dropped` over every mask pattern of the feeding layers: each
    layer's input is one row per pattern of the layers before it, with its probability."""
    alpha, beta = number(params, "alpha"), number(params, "beta")
    form: Literal["additive", "tied"] = "tied" if params["form"] == "tied" else "additive"
    h = x
    probability = torch.ones(1, dtype=x.dtype)
    dropped = 0.0
    hidden = network.layers[:-1]
    for index, (weight, bias) in enumerate(hidden):
        pre = TF.linear(h, weight, bias)
        keep = F.standout_keep_probability(h, pre, alpha=alpha, beta=beta, form=form)
        dropped += float((probability[:, None] * (1.0 - keep)).sum())
        if index == len(hidden) - 1:
            break
        patterns = torch.tensor(
            list(itertools.product((0.0, 1.0), repeat=weight.shape[0])), dtype=x.dtype
        )  # (2^n, n)
        odds = torch.where(patterns.bool()[None], keep[:, None], 1.0 - keep[:, None]).prod(-1)
        probability = (probability[:, None] * odds).flatten()  # (rows * 2^n,)
        h = (_activation(network.activation, pre)[:, None] * patterns[None]).flatten(0, 1)
    return dropped / sum(network.sizes[1:-1])


# ---------------------------------------------------------------- the trained network


def trained_network_of(
    method: str, params: Mapping[str, ParamValue], width: int, seed: int
) -> Network:
    """The dropout network of the dense view's training run (its real weights after the run,
    :func:`dropouts.lab.training.trained_network`), its first ``width`` hidden neurons drawn."""
    from dropouts.lab.training import TrainingSetup, trained_network

    trained = trained_network(TrainingSetup.from_params(method, params, seed=seed))
    layers = tuple((w.double(), b.double()) for w, b in trained.layers)
    sizes = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
    shown = (sizes[0], *(min(width, n) for n in sizes[1:-1]), sizes[-1])
    return Network(layers, trained.activation, "trained", shown, sizes)


def example_of(params: Mapping[str, ParamValue], method: str, seed: int) -> Tensor:
    """The trained network's input example: the first point of its test set."""
    from dropouts.lab.training import TrainingSetup, training_data

    data = training_data(TrainingSetup.from_params(method, params, seed=seed))
    return data.x_test[:1].double()


# ---------------------------------------------------------------- the view


def _layer_json(values: Tensor | None, shown: int) -> list[float] | None:
    return None if values is None else [float(v) for v in values[0, :shown]]


def pass_json(record: Pass, network: Network) -> dict[str, Json]:
    """A forward pass as the page draws it (the drawn neurons of the first example)."""
    layers = []
    for index, shown in enumerate(network.shown):
        layers.append(
            {
                "values": _layer_json(record.values[index], shown),
                "before": _layer_json(record.before[index], shown),
                "mask": _layer_json(record.masks[index], shown),
                "keep": _layer_json(record.keep[index], shown),
            }
        )
    connections: list[Json] = []
    for index, mask in enumerate(record.connections):
        if mask is None or index == 0:
            connections.append(None)
            continue
        rows, columns = network.shown[index], network.shown[index - 1]
        drawn = mask[0, :rows, :columns]
        bias = mask[0, :rows, -1]
        connections.append({"weights": drawn.tolist(), "bias": bias.tolist()})
    return {"layers": layers, "connections": connections, "output": record.output[0].tolist()}


class DenseView(View[DenseTheory]):
    """A small dense network, its masks per iteration, the ensemble and the test-time rules."""

    id: ClassVar[str] = "dense"
    methods: ClassVar[tuple[str, ...]] = DENSE_METHODS
    needs_image: ClassVar[bool] = False
    training = TRAINING  # the network of network=trained

    def __init__(self) -> None:
        self._theories: OrderedDict[Any, DenseTheory] = OrderedDict()

    def scene(self, picture: Tensor | None) -> Scene:
        del picture  # the dense view draws no picture
        return Scene(None, {})

    def network(self, method: str, params: Mapping[str, ParamValue], seed: int) -> Network:
        if params.get("network") == "trained":
            return trained_network_of(method, params, int(number(params, "width")), seed)
        return toy_network(
            int(number(params, "width")), int(number(params, "depth")), method == "alpha"
        )

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> DenseTheory:
        self.check_method(method_id)
        trained = params.get("network") == "trained"
        # The page's seed decides the trained network (a seeded run); not the toy's theory.
        key = (
            method_id,
            seed if trained else None,
            tuple(sorted((k, str(v)) for k, v in params.items())),
        )
        cached = self._theories.get(key)
        if cached is not None:
            self._theories.move_to_end(key)
            return cached
        network = self.network(method_id, params, seed)
        x = self.example(network, params, method_id, seed)
        stream = THEORY_SEED  # the ensemble and the panels: streams of their own
        test = forward(
            network,
            x,
            method_id,
            params,
            frame_generator(stream, ENSEMBLE_ITERATION + 3),
            training=False,
        )
        mean, std = ensemble(network, x, method_id, params, stream)
        exact = exact_mean(network, x, method_id, params)
        extra: dict[str, Json] = {}
        if method_id == "dropconnect":
            extra["dropconnect_unit"] = dropconnect_unit(network, test, params, stream)
        if method_id == "alpha":
            extra["histograms"] = alpha_histograms(params, stream)
        theory = DenseTheory(
            method=method_id,
            network=network,
            x=x,
            test=test,
            expected_dropped_fraction=expected_dropped(network, x, method_id, params),
            ensemble_mean=(float(mean[0]), float(mean[1])),
            ensemble_std=(float(std[0]), float(std[1])),
            exact=None if exact is None else (float(exact[0, 0]), float(exact[0, 1])),
            extra=extra,
        )
        self._theories[key] = theory
        while len(self._theories) > 64:
            self._theories.popitem(last=False)
        return theory

    def example(
        self, network: Network, params: Mapping[str, ParamValue], method: str, seed: int
    ) -> Tensor:
        if network.source == "trained":
            return example_of(params, method, seed)
        return torch.tensor([TOY_INPUT], dtype=torch.float64)

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        """Without the ensemble and the panels: cheap enough for a search over a parameter."""
        network = self.network(method_id, params, seed)
        x = self.example(network, params, method_id, seed)
        return expected_dropped(network, x, method_id, params)

    def theory_json(self, theory: DenseTheory) -> dict[str, Json]:
        network = theory.network
        weights = [
            {
                "weights": weight[: network.shown[k + 1], : network.shown[k]].tolist(),
                "bias": bias[: network.shown[k + 1]].tolist(),
            }
            for k, (weight, bias) in enumerate(network.layers)
        ]
        return {
            "unit": "connection" if theory.method == "dropconnect" else "neuron",
            "mask_kind": "real" if theory.method == "gaussian" else "binary",
            "expected_dropped_fraction": theory.expected_dropped_fraction,
            "network": {
                "source": network.source,
                "activation": network.activation,
                "sizes": list(network.sizes),
                "shown": list(network.shown),
                "layers": weights,
            },
            "input": theory.x[0].tolist(),
            "test": pass_json(theory.test, network),
            "ensemble": {
                "samples": ENSEMBLE_SAMPLES,
                "mean": list(theory.ensemble_mean),
                "std": list(theory.ensemble_std),
                "exact": None if theory.exact is None else list(theory.exact),
            },
            **theory.extra,
        }

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: DenseTheory,
    ) -> Frame:
        record = forward(
            theory.network, theory.x, method_id, params, frame_generator(seed, iteration)
        )
        strip = [
            self._strip_entry(method_id, params, seed, i, theory)
            for i in range(max(0, iteration - STRIP + 1), iteration + 1)
        ]
        dropped, units = _dropped(record, method_id)
        stats: dict[str, Json] = {
            "dropped_fraction": dropped / units if units else 0.0,
            "output": record.output[0].tolist(),
        }
        arrays: dict[str, Array] = {
            "pass": JsonArray(pass_json(record, theory.network)),
            "strip": JsonArray(strip),
        }
        return Frame(iteration, stats, arrays)

    def _strip_entry(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        theory: DenseTheory,
    ) -> dict[str, Json]:
        record = forward(
            theory.network, theory.x, method_id, params, frame_generator(seed, iteration)
        )
        entry = pass_json(record, theory.network)
        return {
            "iteration": iteration,
            "layers": [layer["mask"] for layer in entry["layers"]],
            "connections": entry["connections"],
            "output": entry["output"],
        }


def _dropped(record: Pass, method: str) -> tuple[int, int]:
    """Dropped units (connections for DropConnect) of the first example, and how many. A 0 in
    the mask is a dropped unit for every method (AlphaDropout's keep indicator included)."""
    column = record.connections if method == "dropconnect" else record.masks
    masks = [m[0] for m in column if m is not None]
    return sum(int((m == 0).sum()) for m in masks), sum(m.numel() for m in masks)


VIEW = DenseView()
