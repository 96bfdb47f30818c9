"""The training objective of the sparse layers: their KL summed over a model and the
per-example negative ELBO."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dropouts.functional._common import check_positive_int

from .sbp import SBPDropout
from .svdo import LinearSVDO


def total_kl(model: nn.Module) -> Tensor:
    """Sum of ``kl()`` over every ``LinearSVDO`` and ``SBPDropout`` inside ``model``."""
    terms = [m.kl() for m in model.modules() if isinstance(m, LinearSVDO | SBPDropout)]
    if not terms:
        return torch.zeros(())
    return torch.stack(terms).sum()


def elbo_loss(nll_mean: Tensor, model_kl: Tensor, n_train: int, kl_weight: float = 1.0) -> Tensor:
    """Negative ELBO per training example: ``nll_mean + kl_weight · KL / N``.

    The stochastic-gradient ELBO of Molchanov et al. 2017 is ``N·mean NLL + KL``; it is
    divided here by ``N = n_train`` so that the loss has the scale of an ordinary mean
    cross-entropy (same optimum, learning rates carry over). ``kl_weight`` ramps from 0 to 1
    during a warm-up.
    """
    return nll_mean + kl_weight * model_kl / check_positive_int(n_train, "n_train")
