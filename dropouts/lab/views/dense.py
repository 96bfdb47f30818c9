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

The network and its forward pass are in :mod:`dropouts.lab.views.dense_network`, the ensemble
and the method's panels in :mod:`dropouts.lab.views.dense_ensemble`; here the view, the passes
as the page draws them, and the share of neurons a training pass drops (Standout's expected).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as TF
from torch import Tensor

from dropouts import functional as F
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
from dropouts.lab.views.dense_ensemble import (
    ALPHA_BATCH,
    ENSEMBLE_ITERATION,
    ENSEMBLE_SAMPLES,
    THEORY_SEED,
    UNIT_SAMPLES,
    DenseTheory,
    alpha_histograms,
    dropconnect_unit,
    ensemble,
    exact_mean,
)
from dropouts.lab.views.dense_network import (
    TOY_INPUT,
    Network,
    Pass,
    activation,
    example_of,
    forward,
    toy_network,
    trained_network_of,
)

__all__ = [
    "ALPHA_BATCH",
    "DENSE_METHODS",
    "UNIT_SAMPLES",
    "VIEW",
    "DenseView",
    "exact_mean",
    "expected_dropped",
    "forward",
    "standout_expected_dropped",
    "standout_samples",
    "toy_network",
]


DENSE_METHODS: tuple[str, ...] = ("standard", "gaussian", "alpha", "dropconnect", "standout")
STANDOUT_EXACT_LIMIT = 12  # Standout's expectation: masks of the feeding layers enumerated
STANDOUT_SAMPLES = 4_000  # otherwise: training passes averaged, at most this many
STANDOUT_WORK = 40_000_000  # and at most this many multiply-adds (a search asks it 40 times)
STRIP = 8  # sub-networks of the last iterations shown in the strip


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
        h = (activation(network.activation, pre)[:, None] * patterns[None]).flatten(0, 1)
    return dropped / sum(network.sizes[1:-1])


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
