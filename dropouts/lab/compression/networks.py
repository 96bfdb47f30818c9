"""The compression view's networks (:mod:`dropouts.lab.compression`), in two variants (the
registry's ``variant``):

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

Beside it, a plain network of the same shape (no noise, no KL; ``torch.nn.Linear``'s
initialisation, which the ``sbp`` network shares): the dense reference for the accuracies.
"""

from __future__ import annotations

import itertools
import math
from typing import cast

import torch
from torch import Tensor, nn

from dropouts.lab.compression.setup import CompressionSetup, _generator
from dropouts.sparse import LinearSVDO, SBPDropout

SVDO_INIT_STD = 0.02  # LinearSVDO's reference initialisation of θ


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
