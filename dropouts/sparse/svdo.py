"""Sparse variational dropout (Molchanov, Ashukha & Vetrov, "Variational Dropout Sparsifies Deep
Neural Networks", ICML 2017): the dense layer ``LinearSVDO`` and its KL to the log-uniform
prior, ``svdo_kl``. Reference code: ``bayesgroup/variational-dropout-sparsifies-dnn``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Molchanov et al. 2017: -KL ≈ k1·σ(k2 + k3·log α) − ½·log(1 + 1/α) − k1.
_KL_K1 = 0.63576
_KL_K2 = 1.87320
_KL_K3 = 1.48695
_LOG_ALPHA_CLIP = 8.0
_LRT_VARIANCE_EPS = 1e-8
_THETA_SQUARED_EPS = 1e-8


def svdo_kl(log_alpha: Tensor) -> Tensor:
    """Elementwise KL(q(w | θ, α) ‖ log-uniform prior), Molchanov et al. 2017's approximation.

    ``-KL ≈ k1·sigmoid(k2 + k3·log α) − ½·log1p(exp(−log α)) − k1`` with ``k1 = 0.63576``,
    ``k2 = 1.87320``, ``k3 = 1.48695``. The result is decreasing in ``log α`` and tends to 0
    as ``log α → ∞`` (a weight that is pure noise costs nothing under the prior).
    """
    negative_kl = (
        _KL_K1 * torch.sigmoid(_KL_K2 + _KL_K3 * log_alpha) - 0.5 * F.softplus(-log_alpha) - _KL_K1
    )
    return -negative_kl


class LinearSVDO(nn.Module):
    """Dense layer with sparse variational dropout (Molchanov, Ashukha & Vetrov, ICML 2017).

    Each weight is ``w_ij = θ_ij·ξ_ij`` with ``ξ_ij ~ N(1, α_ij)``. The parameters are ``theta``
    and ``log_sigma2`` (the additive reparameterisation, ``σ² = α·θ²``), so
    ``log α = clip(log σ² − log(θ² + 1e-8), −8, 8)``.

    Training: the local reparameterisation trick samples the pre-activations directly,
    ``out = xθᵀ + b + sqrt(x²·(α ⊙ θ²)ᵀ + 1e-8) ⊙ ε`` with ``ε ~ N(0, 1)`` drawn per output
    element and example (from ``generator`` when one is set).

    Eval: deterministic ``x·(θ ⊙ 1[log α < threshold])ᵀ + b``; weights with ``log α ≥ threshold``
    (α ≈ 20 for the default 3, an equivalent drop rate of 0.95) are pruned.

    Initialisation follows the reference PyTorch code: ``θ ~ N(0, 0.02²)``, ``b = 0``,
    ``log σ² = −10``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        threshold: float = 3.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.threshold = float(threshold)
        self.generator = generator
        self.theta = nn.Parameter(torch.empty(out_features, in_features))
        self.log_sigma2 = nn.Parameter(torch.empty(out_features, in_features))
        self.bias: nn.Parameter | None
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """θ ~ N(0, 0.02²), log σ² = −10, bias = 0, as in the reference code."""
        with torch.no_grad():
            self.theta.normal_(0.0, 0.02)
            self.log_sigma2.fill_(-10.0)
            if self.bias is not None:
                self.bias.zero_()

    @property
    def log_alpha(self) -> Tensor:
        """``log α = clip(log σ² − log(θ² + 1e-8), −8, 8)``, shape ``(out, in)``."""
        log_theta_squared = torch.log(self.theta * self.theta + _THETA_SQUARED_EPS)
        return torch.clamp(self.log_sigma2 - log_theta_squared, -_LOG_ALPHA_CLIP, _LOG_ALPHA_CLIP)

    def pruned_mask(self) -> Tensor:
        """Boolean ``(out, in)`` tensor, True where ``log α ≥ threshold`` (weight dropped)."""
        return self.log_alpha >= self.threshold

    def sparsity(self) -> float:
        """Fraction of weights pruned at test time (``log α ≥ threshold``)."""
        return float(self.pruned_mask().float().mean())

    def kl(self) -> Tensor:
        """Sum over weights of the approximate KL to the log-uniform prior (a scalar)."""
        return svdo_kl(self.log_alpha).sum()

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            return self._sample_preactivation(x)
        kept_theta = self.theta * (~self.pruned_mask()).to(self.theta.dtype)
        return F.linear(x, kept_theta, self.bias)

    def _sample_preactivation(self, x: Tensor) -> Tensor:
        """Local reparameterisation: one Gaussian draw per output element and example."""
        mean = F.linear(x, self.theta, self.bias)
        weight_variance = torch.exp(self.log_alpha) * self.theta * self.theta
        std = torch.sqrt(F.linear(x * x, weight_variance) + _LRT_VARIANCE_EPS)
        noise = torch.randn(
            mean.shape, generator=self.generator, dtype=mean.dtype, device=mean.device
        )
        return mean + std * noise

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, threshold={self.threshold}"
        )
