"""Structured Bayesian pruning (Neklyudov, Molchanov, Ashukha & Vetrov, "Structured Bayesian
Pruning via Log-Normal Multiplicative Noise", NeurIPS 2017): the noise layer ``SBPDropout``.
Reference code: ``necludov/group-sparsity-sbp:nets/layers.py``."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dropouts.modules._base import DropoutModule

from ._truncated_normal import (
    _entropy_truncated_normal,
    _log_mgf_truncated_normal,
    _sample_truncated_normal,
)

# Neklyudov et al. 2017: log θ lives on [-20, 0]; μ and log σ are clipped to [-20, 5].
_SBP_LOG_THETA_MIN = -20.0
_SBP_LOG_THETA_MAX = 0.0
_SBP_PARAM_MIN = -20.0
_SBP_PARAM_MAX = 5.0
_MIN_RELATIVE_VARIANCE = torch.finfo(torch.float64).eps  # SNR saturates at 1/√eps ≈ 6.7e7


class SBPDropout(DropoutModule):
    """Structured Bayesian pruning noise layer (Neklyudov, Molchanov, Ashukha & Vetrov, 2017).

    ``y = x ⊙ θ`` with one factor per feature/channel (axis ``channel_dim``), broadcast over every
    other axis. ``log θ ~ N(μ, σ²)`` truncated to ``[a, b] = [−20, 0]``, so ``θ ∈ [e⁻²⁰, 1]``;
    the prior is log-uniform on the same interval. ``μ`` (init 0) and ``log σ`` (init −5) are
    learnt and clipped to ``[−20, 5]`` when used, as in ``necludov/group-sparsity-sbp``.

    Training: one θ per feature per forward, shared across the batch (the reference code draws
    ``tf.random_uniform(mu.shape)``), by the inverse CDF of the truncated normal.

    Eval: ``y = x ⊙ E[θ] ⊙ 1[SNR(θ) > threshold]`` (threshold 1): features whose multiplier is
    mostly noise are removed, the rest are scaled by the posterior mean.

    The closed forms are evaluated in float64, with ``log Φ`` differences while the interval
    ``[α, β]`` straddles the mode and ``erfcx``-scaled forms (as in the reference code) once it lies
    in the lower tail (β < 0, i.e. μ > 0), so they stay accurate and differentiable at every
    clipped (μ, σ), where |β| reaches 5e9; the results are cast back to the parameters' dtype.
    """

    def __init__(
        self,
        num_features: int,
        *,
        channel_dim: int = 1,
        threshold: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(generator=generator)
        self.num_features = num_features
        self.channel_dim = channel_dim
        self.threshold = float(threshold)
        self.mu = nn.Parameter(torch.zeros(num_features))
        self.log_sigma = nn.Parameter(torch.full((num_features,), -5.0))

    def _clipped_mu_sigma(self) -> tuple[Tensor, Tensor]:
        """``(μ, σ)`` in float64 after clipping μ and log σ to ``[−20, 5]``."""
        mu = self.mu.double().clamp(_SBP_PARAM_MIN, _SBP_PARAM_MAX)
        log_sigma = self.log_sigma.double().clamp(_SBP_PARAM_MIN, _SBP_PARAM_MAX)
        return mu, log_sigma.exp()

    def _standardised(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(μ, σ, α, β)`` with ``α = (a − μ)/σ`` and ``β = (b − μ)/σ``."""
        mu, sigma = self._clipped_mu_sigma()
        alpha = (_SBP_LOG_THETA_MIN - mu) / sigma
        beta = (_SBP_LOG_THETA_MAX - mu) / sigma
        return mu, sigma, alpha, beta

    def expected_theta(self) -> Tensor:
        """Closed-form ``E[θ] = e^{μ+σ²/2}·(Φ(σ−α) − Φ(σ−β)) / Z``, shape ``(num_features,)``.

        Evaluated as ``exp(μ + log E[exp(σZ)])`` with ``Z`` the standardised truncated normal.
        """
        mu, sigma, alpha, beta = self._standardised()
        log_mean = mu + _log_mgf_truncated_normal(alpha, beta, sigma)
        return log_mean.exp().to(self.mu.dtype)

    def snr(self) -> Tensor:
        """Closed-form signal-to-noise ratio ``E[θ] / sqrt(Var θ)``, shape ``(num_features,)``.

        ``Var θ / E[θ]² = E[θ²]/E[θ]² − 1 = expm1(log M(2σ) − 2 log M(σ))`` with ``M`` the
        moment generating function of the standardised truncated normal (``E[θ²]`` as in
        Neklyudov et al.). Its relative accuracy is about ``1e-16·SNR²`` (float64 rounding of the
        log-moments), and the SNR saturates at ``1/√eps ≈ 6.7e7``: beyond ~1e5 only "huge" is
        meaningful, which is all the ``SNR > 1`` test needs.
        """
        _, sigma, alpha, beta = self._standardised()
        log_ratio = _log_mgf_truncated_normal(alpha, beta, 2.0 * sigma) - 2.0 * (
            _log_mgf_truncated_normal(alpha, beta, sigma)
        )
        relative_variance = torch.expm1(log_ratio).clamp(min=_MIN_RELATIVE_VARIANCE)
        return torch.rsqrt(relative_variance).to(self.mu.dtype)

    def kept_mask(self) -> Tensor:
        """Boolean ``(num_features,)`` tensor, True where ``SNR > threshold`` (feature kept)."""
        return self.snr() > self.threshold

    def sparsity(self) -> float:
        """Fraction of features removed at test time (``SNR ≤ threshold``)."""
        return float((~self.kept_mask()).float().mean())

    def kl(self) -> Tensor:
        """Sum over features of KL(truncated log-normal ‖ truncated log-uniform) (a scalar).

        ``KL = −log σ − log Z − (αφ(α) − βφ(β))/(2Z) + log(b − a) − ½ log(2πe)``, i.e. minus the
        entropy of the truncated normal of ``log θ`` plus ``log(b − a)``, hence ≥ 0.
        """
        _, sigma, alpha, beta = self._standardised()
        log_interval = math.log(_SBP_LOG_THETA_MAX - _SBP_LOG_THETA_MIN)
        per_feature = log_interval - torch.log(sigma) - _entropy_truncated_normal(alpha, beta)
        return per_feature.sum().to(self.mu.dtype)

    def sample_theta(self) -> Tensor:
        """One draw of θ per feature, shape ``(num_features,)``, values in ``[e⁻²⁰, 1]``."""
        mu, sigma = self._clipped_mu_sigma()
        log_theta = _sample_truncated_normal(
            mu, sigma, _SBP_LOG_THETA_MIN, _SBP_LOG_THETA_MAX, self.generator
        )
        return log_theta.exp().to(self.mu.dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[self.channel_dim] != self.num_features:
            raise ValueError(
                f"expected {self.num_features} features on axis {self.channel_dim}, "
                f"got input of shape {tuple(x.shape)}"
            )
        if self.training:
            multiplier = self.sample_theta()
        else:
            multiplier = self.expected_theta() * self.kept_mask().to(self.mu.dtype)
        return x * multiplier.to(x.dtype).view(self._broadcast_shape(x))

    def _broadcast_shape(self, x: Tensor) -> list[int]:
        """``[1, …, num_features, …, 1]`` with the features on ``channel_dim``."""
        shape = [1] * x.dim()
        shape[self.channel_dim] = self.num_features
        return shape

    def extra_repr(self) -> str:
        return (
            f"num_features={self.num_features}, channel_dim={self.channel_dim}, "
            f"threshold={self.threshold}"
        )
