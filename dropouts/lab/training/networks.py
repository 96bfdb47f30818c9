"""The two networks of a run: the one with the dropout method and the same one without, from
the same seeded initial weights."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal, cast

import torch
from torch import Tensor, nn

from dropouts.lab.registry import ParamValue
from dropouts.lab.training._seeds import _generator
from dropouts.lab.training.setup import TrainingSetup, hidden_shapes
from dropouts.modules import (
    AlphaDropout,
    DropConnectLinear,
    Dropout,
    GaussianDropout,
    StandoutLinear,
)

Activation = Literal["relu", "selu"]
_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": torch.relu, "selu": torch.selu}


def activation_of(method: str) -> Activation:
    """SELU for Alpha dropout (Klambauer et al.: it keeps SELU's mean and variance), else ReLU."""
    return "selu" if method == "alpha" else "relu"


def initial_weights(setup: TrainingSetup) -> list[tuple[Tensor, Tensor]]:
    """``(weight, bias)`` of every layer (the hidden ones, then the output), seeded: both
    networks of a run start from these. ``torch.nn.Linear``'s initialisation for ReLU
    (uniform in ±1/sqrt(fan_in), weights and biases); LeCun normal for SELU (weights
    N(0, 1/fan_in), biases 0), as Klambauer et al. prescribe."""
    generator = _generator(setup.seed, "weights")
    shapes = [*hidden_shapes(setup.width, setup.depth), (setup.width, 2)]
    layers = []
    for fan_in, fan_out in shapes:
        bound = 1.0 / math.sqrt(fan_in)
        if activation_of(setup.method) == "selu":
            weight = torch.randn((fan_out, fan_in), generator=generator) * bound
            bias = torch.zeros(fan_out)
        else:
            weight = (torch.rand((fan_out, fan_in), generator=generator) * 2 - 1) * bound
            bias = (torch.rand((fan_out,), generator=generator) * 2 - 1) * bound
        layers.append((weight, bias))
    return layers


class _Activation(nn.Module):
    def __init__(self, name: Activation) -> None:
        super().__init__()
        self.name = name
        self.function = _ACTIVATIONS[name]

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.name


def build_network(
    setup: TrainingSetup, dropout: bool, generator: torch.Generator | None = None
) -> nn.Sequential:
    """2 → ``width`` × ``depth`` → 2 logits, with the method (``dropout=True``) or without.

    Standard, Gaussian and Alpha dropout follow each hidden activation; DropConnect and
    Standout ARE the hidden layers (:class:`DropConnectLinear`, :class:`StandoutLinear`, with
    the activation inside). The output layer is a plain ``nn.Linear``. Without dropout the
    network is the same (the same activations and :func:`initial_weights`), only with plain
    ``nn.Linear`` hidden layers and no dropout modules. Masks (and DropConnect's test-time
    samples) are drawn from ``generator`` (by default one seeded from the setup), so training
    is reproducible.
    """
    if generator is None:
        generator = _generator(setup.seed, "masks")
    params = setup.method_params
    name = activation_of(setup.method)
    function = _ACTIVATIONS[name]
    weights = initial_weights(setup)
    layers: list[nn.Module] = []
    for (fan_in, fan_out), (weight, bias) in zip(
        hidden_shapes(setup.width, setup.depth), weights, strict=False
    ):
        hidden: DropConnectLinear | StandoutLinear | nn.Linear
        if dropout and setup.method == "dropconnect":
            hidden = DropConnectLinear(
                fan_in,
                fan_out,
                p=float(cast(float, params["p"])),
                activation=function,
                inference=cast(Literal["mean", "gaussian"], params["inference"]),
                samples=int(cast(int, params["samples"])),
                generator=generator,
            )
        elif dropout and setup.method == "standout":
            hidden = StandoutLinear(
                fan_in,
                fan_out,
                alpha=float(cast(float, params["alpha"])),
                beta=float(cast(float, params["beta"])),
                form=cast(Literal["additive", "tied"], params["form"]),
                activation=function,
                generator=generator,
            )
        else:
            hidden = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            hidden.weight.copy_(weight)
            hidden.bias.copy_(bias)
        layers.append(hidden)
        if not isinstance(hidden, DropConnectLinear | StandoutLinear):
            layers.append(_Activation(name))
        if dropout and setup.method in ("standard", "gaussian", "alpha"):
            layers.append(_unit_dropout(setup.method, params, generator))
    output = nn.Linear(setup.width, 2)
    with torch.no_grad():
        output.weight.copy_(weights[-1][0])
        output.bias.copy_(weights[-1][1])
    layers.append(output)
    return nn.Sequential(*layers)


def _unit_dropout(
    method: str, params: Mapping[str, ParamValue], generator: torch.Generator
) -> nn.Module:
    p = float(cast(float, params["p"]))
    if method == "standard":
        return Dropout(p, scale=params["scaling"] == "inverted", generator=generator)
    if method == "gaussian":
        sigma = params["sigma"]
        return GaussianDropout(
            p, sigma=None if sigma is None else float(cast(float, sigma)), generator=generator
        )
    return AlphaDropout(p, generator=generator)
