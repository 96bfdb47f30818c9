"""The network of Monte Carlo dropout's toy problems (Gal & Ghahramani, ICML 2016): seeded
``Linear → BatchNorm1d → ReLU → Dropout(p)`` layers, the ``λ Σ ‖W‖²`` of the loss, and the keep
masks of ``T`` passes drawn at once, pass-major (:func:`draw_masks`)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dropouts.lab.uncertainty_setup import UncertaintySetup, seeded_generator
from dropouts.modules import Dropout


def build_network(setup: UncertaintySetup) -> nn.Sequential:
    """``Linear → BatchNorm1d → ReLU → Dropout(p)`` per hidden layer, then ``Linear``; seeded
    weights (uniform in ±1/sqrt(fan_in), as ``nn.Linear``), BatchNorm's γ = 1 and β = 0, and
    the training masks from a seeded generator."""
    weights = seeded_generator(setup.seed, setup.task, "weights")
    masks = seeded_generator(setup.seed, setup.task, "masks")
    layers: list[nn.Module] = []
    fan_in = setup.inputs
    for _ in range(setup.depth):
        layers += [
            _linear(fan_in, setup.width, weights),
            nn.BatchNorm1d(setup.width),
            nn.ReLU(),
            Dropout(setup.p, generator=masks),
        ]
        fan_in = setup.width
    layers.append(_linear(fan_in, setup.outputs, weights))
    return nn.Sequential(*layers)


def _linear(fan_in: int, fan_out: int, generator: torch.Generator) -> nn.Linear:
    layer = nn.Linear(fan_in, fan_out)
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        layer.weight.copy_((torch.rand((fan_out, fan_in), generator=generator) * 2 - 1) * bound)
        layer.bias.copy_((torch.rand((fan_out,), generator=generator) * 2 - 1) * bound)
    return layer


def weight_penalty(network: nn.Module) -> Tensor:
    """``Σ ‖W‖²`` over the weight matrices (not the biases, nor BatchNorm's γ and β)."""
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    return torch.stack([module.weight.square().sum() for module in linears]).sum()


def _dropout_layers(network: nn.Module) -> list[tuple[Dropout, int]]:
    """Each dropout layer and its width (that of the Linear before it)."""
    found: list[tuple[Dropout, int]] = []
    width = 0
    for module in network.modules():
        if isinstance(module, nn.Linear):
            width = module.out_features
        elif isinstance(module, Dropout):
            found.append((module, width))
    return found


def draw_masks(network: nn.Module, T: int, generator: torch.Generator) -> list[Tensor]:
    """Keep masks ``(T, width)`` (bool) for each dropout layer of ``network``, one row per
    pass, shared by every input point of the pass. Drawn as ONE ``(T, Σ widths)`` block of
    uniforms, pass-major: pass ``t``'s masks do not depend on ``T``."""
    layers = _dropout_layers(network)
    total = sum(width for _, width in layers)
    uniforms = torch.rand((T, total), generator=generator)
    masks, start = [], 0
    for module, width in layers:
        masks.append(uniforms[:, start : start + width] >= module.p)
        start += width
    return masks
