"""The base class every dropout module of the library derives from."""

from __future__ import annotations

import torch
from torch import nn


class DropoutModule(nn.Module):
    """A module whose forward is random in training mode and deterministic in eval mode.

    ``dropouts.mc.mc_predict`` switches exactly these modules (and torch's own dropout
    modules) to training mode, leaving BatchNorm and the rest in eval mode.

    ``generator`` is an optional ``torch.Generator`` used for every draw, so that a module
    built with a seeded generator gives reproducible masks.
    """

    def __init__(self, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.generator = generator
