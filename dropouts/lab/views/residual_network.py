"""The residual view's network: a fixed stack of residual blocks (conv 3 x 3, ReLU, conv 3 x 3,
seeded He weights), its forward pass under DropPath's gates, the gates of one training pass, and
how an output is measured and shown (see :mod:`dropouts.lab.views.residual`)."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as TF
from torch import Tensor

from dropouts import functional as F

MAX_BLOCKS = 16
CHANNELS = 8
BRANCH_GAIN = 0.3  # the second convolution's scale: see the module's docstring
NETWORK_SEED = 2016  # the weights: fixed, whatever the page's seed
Mode = Literal["row", "batch"]


@dataclass(frozen=True)
class Block:
    """One residual branch: conv 3 x 3, ReLU, conv 3 x 3 (weights ``(C, C, 3, 3)``)."""

    first: Tensor
    second: Tensor


def block_weights(index: int) -> Block:
    """Block ``index`` (1-based): He-initialised from its own seeded stream."""
    generator = torch.Generator().manual_seed(NETWORK_SEED * 1000 + index)
    fan_in = CHANNELS * 9
    shape = (CHANNELS, CHANNELS, 3, 3)
    first = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)
    second = torch.randn(shape, generator=generator) * (BRANCH_GAIN * math.sqrt(1.0 / fan_in))
    return Block(first, second)


_NETWORK: tuple[Block, ...] = tuple(block_weights(index) for index in range(1, MAX_BLOCKS + 1))


def network(blocks: int) -> tuple[Block, ...]:
    """The first ``blocks`` blocks of the fixed stack."""
    if not 1 <= blocks <= MAX_BLOCKS:
        raise ValueError(f"blocks must be 1 to {MAX_BLOCKS}, got {blocks}")
    return _NETWORK[:blocks]


def branch(block: Block, h: Tensor) -> Tensor:
    """``f_l(h)`` for a batch ``(N, C, S, S)``."""
    return TF.conv2d(TF.relu(TF.conv2d(h, block.first, padding=1)), block.second, padding=1)


def forward(stack: tuple[Block, ...], x: Tensor, gates: Tensor | None) -> Tensor:
    """``x`` ``(N, C, S, S)`` through the stack: ``H_l = H_{l-1} + gates[:, l] f_l(H_{l-1})``.

    ``gates`` ``(N, L)`` holds the factor each sample's branch is multiplied by (0 when dropped,
    ``1 / s_l`` when kept, as :func:`dropouts.functional.drop_path` returns its mask); None is
    the test-time network (every branch, factor 1). A dropped branch is not computed at all.
    """
    h = x
    for index, block in enumerate(stack):
        if gates is None:
            h = h + branch(block, h)
            continue
        factor = gates[:, index]
        kept = torch.nonzero(factor).flatten()
        if kept.numel() == 0:
            continue
        if kept.numel() == h.shape[0]:
            h = h + factor.view(-1, 1, 1, 1) * branch(block, h)
        else:
            update = factor[kept].view(-1, 1, 1, 1) * branch(block, h[kept])
            h = h.index_add(0, kept, update)
    return h


def draw_gates(survival: tuple[float, ...], batch: int, mode: Mode, g: torch.Generator) -> Tensor:
    """The factors ``(batch, L)`` of one training pass: per block, the mask that
    :func:`dropouts.functional.drop_path` applies to the branch of a batch (one gate per
    sample in row mode, one for the batch in batch mode), blocks in order from ``g``."""
    columns = []
    for s in survival:
        result = F.drop_path(
            torch.ones(batch, 1), 1.0 - s, mode=mode, generator=g, return_mask=True
        )
        assert isinstance(result, tuple)
        columns.append(result[1].expand(batch, 1))
    return torch.cat(columns, dim=1)


def relative_change(outputs: Tensor, reference: Tensor) -> Tensor:
    """Per sample ``|outputs - reference| / |reference|`` (norms over channels and positions)."""
    gap = torch.linalg.vector_norm((outputs - reference).flatten(1), dim=1)
    size = torch.linalg.vector_norm(reference.flatten(1), dim=1).clamp(min=1e-12)
    return torch.div(gap, size)


def display_bytes(outputs: Tensor, scale: Tensor) -> list[str]:
    """``|H_L|`` per position, row-major, as one byte each (255 at the sample's ``scale``,
    clipped above), base64-encoded: one string per sample."""
    norm = torch.linalg.vector_norm(outputs, dim=1).flatten(1)  # (N, S * S)
    levels = (norm / scale[:, None] * 255).round().clamp(0, 255).to(torch.uint8)
    return [base64.b64encode(row.numpy().tobytes()).decode("ascii") for row in levels]
