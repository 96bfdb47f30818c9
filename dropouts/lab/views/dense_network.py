"""The dense view's network (see :mod:`dropouts.lab.views.dense`): the toy network's fixed
weights or the dense view's trained one, and one forward pass of a batch under a method's masks
(standard, Gaussian, Alpha, DropConnect, Standout), recorded layer by layer."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as TF
from torch import Tensor

from dropouts import functional as F
from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import number

TOY_SEED = 2013  # the toy network's weights: fixed, whatever the page's seed
TOY_INPUT = (0.8, -0.35)


@dataclass(frozen=True)
class Network:
    """Layers ``(weight (out, in), bias (out,))`` from input to output, and the activation."""

    layers: tuple[tuple[Tensor, Tensor], ...]
    activation: str  # "relu" or "selu" (hidden layers); the output is linear, then softmax
    source: str  # "toy" or "trained"
    shown: tuple[int, ...]  # neurons drawn per layer, input to output
    sizes: tuple[int, ...]  # neurons per layer, input to output


def activation(name: str, x: Tensor) -> Tensor:
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
                activation=lambda u: activation(act, u),
                inference="gaussian" if params["inference"] == "gaussian" else "mean",
                samples=int(number(params, "samples")),
                training=training, generator=generator, return_mask=True,
            )  # fmt: skip
            assert isinstance(result, tuple)
            out, connection = result
            record.connections.append(connection.expand(h.shape[0], -1, -1))
            record.before.append(activation(act, pre))
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
                activation=lambda u: activation(act, u),
                training=training, generator=generator, return_mask=True,
            )  # fmt: skip
            assert isinstance(result, tuple)
            out, mask = result
            record.before.append(activation(act, pre))
            record.masks.append(mask)
            record.keep.append(keep)
            record.connections.append(None)
        else:
            activated = activation(act, pre)
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
