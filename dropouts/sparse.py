"""Model compression via dropout: sparse variational dropout and structured Bayesian pruning.

``LinearSVDO`` is the dense layer of sparse variational dropout (Molchanov, Ashukha & Vetrov,
"Variational Dropout Sparsifies Deep Neural Networks", ICML 2017): every weight carries its own
Gaussian multiplicative noise ``w = θ ⊙ ξ``, ``ξ ~ N(1, α)``; weights whose learnt ``log α``
exceeds a threshold carry no signal and are pruned at test time.

``SBPDropout`` is the noise layer of structured Bayesian pruning (Neklyudov, Molchanov, Ashukha &
Vetrov, "Structured Bayesian Pruning via Log-Normal Multiplicative Noise", NeurIPS 2017): one
multiplicative factor ``θ`` per channel with ``log θ`` a normal truncated to ``[-20, 0]``;
channels whose signal-to-noise ratio ``E[θ] / std(θ)`` falls to 1 or below are removed.

Both layers expose ``kl()``; ``total_kl`` sums it over a model and ``elbo_loss`` builds the
per-example negative ELBO. Reference code: ``bayesgroup/variational-dropout-sparsifies-dnn``
(SVDO) and ``necludov/group-sparsity-sbp:nets/layers.py`` (SBP).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.functional._common import check_positive_int
from dropouts.modules._base import DropoutModule

__all__ = [
    "LinearSVDO",
    "SBPDropout",
    "elbo_loss",
    "svdo_kl",
    "total_kl",
]

# Molchanov et al. 2017: -KL ≈ k1·σ(k2 + k3·log α) − ½·log(1 + 1/α) − k1.
_KL_K1 = 0.63576
_KL_K2 = 1.87320
_KL_K3 = 1.48695
_LOG_ALPHA_CLIP = 8.0
_LRT_VARIANCE_EPS = 1e-8
_THETA_SQUARED_EPS = 1e-8

# Neklyudov et al. 2017: log θ lives on [-20, 0]; μ and log σ are clipped to [-20, 5].
_SBP_LOG_THETA_MIN = -20.0
_SBP_LOG_THETA_MAX = 0.0
_SBP_PARAM_MIN = -20.0
_SBP_PARAM_MAX = 5.0

_LOG_2PI = math.log(2.0 * math.pi)
_HALF_LOG_2PI_E = 0.5 * (_LOG_2PI + 1.0)
_SQRT_2 = math.sqrt(2.0)
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi / 2.0)
_LOG_NDTR_ERFCX_BELOW = -10.0
_MILLS_SERIES_FROM = 100.0
_MIN_RELATIVE_VARIANCE = torch.finfo(torch.float64).eps  # SNR saturates at 1/√eps ≈ 6.7e7
_LOG_P_TAIL = -700.0  # below this, exp(log p) is no longer a normal float64
_NEWTON_STEPS = 3
_LARGEST_BELOW_ONE = 1.0 - 2.0**-53


# --------------------------------------------------------------------------------------------
# Sparse variational dropout (Molchanov et al. 2017)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Truncated normal helpers (float64, log space)
# --------------------------------------------------------------------------------------------


def _log1mexp(x: Tensor) -> Tensor:
    """``log(1 − exp(x))`` for ``x < 0``, accurate on both sides of ``−log 2`` (Mächler 2012)."""
    return torch.where(x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def _log_ndtr(x: Tensor) -> Tensor:
    """``log Φ(x)`` whose gradient stays finite far in the lower tail.

    ``torch.special.log_ndtr``'s backward is ``exp(log φ − log Φ)``, which loses all precision
    below x ≈ −1e5 and returns inf/NaN below −1e9; here ``log Φ(x) = log(erfcx(−x/√2)/2) − x²/2``
    is used for ``x < −10``, whose autograd gradient is accurate.
    """
    far = x < _LOG_NDTR_ERFCX_BELOW
    far_x = torch.where(far, x, _LOG_NDTR_ERFCX_BELOW)
    near_x = torch.where(far, 0.0, x)
    scaled_tail: Tensor = torch.special.erfcx(-far_x / _SQRT_2)
    far_value = torch.log(0.5 * scaled_tail) - 0.5 * far_x * far_x
    near_value: Tensor = torch.special.log_ndtr(near_x)
    return torch.where(far, far_value, near_value)


def _cdf_over_pdf(x: Tensor) -> Tensor:
    """Mills ratio ``Φ(x)/φ(x) = √(π/2)·erfcx(−x/√2)``, without over/underflow for x ≤ 0."""
    scaled_tail: Tensor = torch.special.erfcx(-x / _SQRT_2)
    return _SQRT_PI_OVER_2 * scaled_tail


def _log_ndtr_diff(low: Tensor, high: Tensor) -> Tensor:
    """``log(Φ(high) − Φ(low))`` for ``low < high``, without underflow in either tail.

    ``Φ(h) − Φ(l) = Φ(−l) − Φ(−h)``: the interval is mirrored so that it lies mostly on the left,
    where ``log Φ`` does not lose the difference to rounding.
    """
    mirror = low + high > 0
    left = torch.where(mirror, -high, low)
    right = torch.where(mirror, -low, high)
    log_cdf_right = _log_ndtr(right)
    return log_cdf_right + _log1mexp(_log_ndtr(left) - log_cdf_right)


def _scaled_tail_mass(low: Tensor, high: Tensor) -> Tensor:
    """``D = 2·exp(high²/2)·(Φ(high) − Φ(low))`` for ``low < high ≤ 0``, by ``erfcx``.

    ``Φ(x) = ½·erfcx(−x/√2)·exp(−x²/2)``; factoring out ``exp(−high²/2)`` leaves numbers of
    the order of ``1/|high|`` however deep in the tail the interval lies.
    """
    decay = torch.exp(-0.5 * (low - high) * (low + high))
    high_term: Tensor = torch.special.erfcx(-high / _SQRT_2)
    low_term: Tensor = torch.special.erfcx(-low / _SQRT_2)
    return high_term - low_term * decay


def _one_minus_scaled_mills(u: Tensor) -> Tensor:
    """``g(u) = 1 − √π·u·erfcx(u)`` for ``u ≥ 0``; it tends to ``1/(2u²)`` as ``u → ∞``.

    For ``u > 100`` the direct form cancels, so the asymptotic series of ``erfcx``,
    ``g = s − 3s² + 15s³ − 105s⁴`` with ``s = 1/(2u²)``, is used (relative error < 1e-14).
    """
    scaled_erfcx: Tensor = torch.special.erfcx(u)
    direct = 1.0 - _SQRT_PI * u * scaled_erfcx
    s = 0.5 / u.clamp(min=_MILLS_SERIES_FROM) ** 2
    series = s * (1.0 - s * (3.0 - s * (15.0 - 105.0 * s)))
    return torch.where(u > _MILLS_SERIES_FROM, series, direct)


def _log_mgf_truncated_normal(alpha: Tensor, beta: Tensor, t: Tensor) -> Tensor:
    """``log E[exp(tZ)]`` for ``Z ~ N(0, 1)`` truncated to ``[α, β]`` (with ``α ≤ 0``).

    ``E[exp(tZ)] = exp(t²/2)·(Φ(β − t) − Φ(α − t)) / (Φ(β) − Φ(α))``. For ``β ≥ 0`` the
    ``log Φ`` differences are used; for ``β < 0`` the ``erfcx`` form
    ``β·t + log D(α − t, β − t) − log D(α, β)``, whose ``β·t = −kμ`` stays small even when
    ``|β|`` is ~1e9. Each branch is fed a harmless stand-in where it is not selected.
    """
    in_tail = beta < 0
    central_alpha = torch.where(in_tail, -1.0, alpha)
    central_beta = torch.where(in_tail, 1.0, beta)
    central = (
        0.5 * t * t
        + _log_ndtr_diff(central_alpha - t, central_beta - t)
        - _log_ndtr_diff(central_alpha, central_beta)
    )
    tail_alpha = torch.where(in_tail, alpha, -2.0)
    tail_beta = torch.where(in_tail, beta, -1.0)
    tail = (
        tail_beta * t
        + torch.log(_scaled_tail_mass(tail_alpha - t, tail_beta - t))
        - torch.log(_scaled_tail_mass(tail_alpha, tail_beta))
    )
    return torch.where(in_tail, tail, central)


def _entropy_truncated_normal(alpha: Tensor, beta: Tensor) -> Tensor:
    """Entropy of ``N(0, 1)`` truncated to ``[α, β]`` (with ``α ≤ 0``).

    ``H = ½ log(2πe) + log Z + (αφ(α) − βφ(β)) / (2Z)``. For ``β < 0`` the terms ``log Z`` and
    ``−βφ(β)/(2Z)`` are both ≈ ``β²/2`` and cancel; there it is rewritten with
    ``D = D(α, β)``, ``u = −β/√2`` and ``E = erfcx(−α/√2)·exp(−(α − β)(α + β)/2)`` as
    ``½ log(2πe) − log 2 + log D + αφ(α)/(2Z) − β·(√(2/π)·g(u) − β·E) / (2D)``.
    """
    in_tail = beta < 0
    central_alpha = torch.where(in_tail, -1.0, alpha)
    central_beta = torch.where(in_tail, 1.0, beta)
    log_z = _log_ndtr_diff(central_alpha, central_beta)
    edge_terms = central_alpha * torch.exp(_log_normal_pdf(central_alpha) - log_z) - (
        central_beta * torch.exp(_log_normal_pdf(central_beta) - log_z)
    )
    central = _HALF_LOG_2PI_E + log_z + 0.5 * edge_terms

    tail_alpha = torch.where(in_tail, alpha, -2.0)
    tail_beta = torch.where(in_tail, beta, -1.0)
    scaled_mass = _scaled_tail_mass(tail_alpha, tail_beta)
    alpha_decay = torch.exp(-0.5 * (tail_alpha - tail_beta) * (tail_alpha + tail_beta))
    alpha_erfcx: Tensor = torch.special.erfcx(-tail_alpha / _SQRT_2)
    mills_gap = _one_minus_scaled_mills(-tail_beta / _SQRT_2)
    beta_terms = tail_beta * (_SQRT_2_OVER_PI * mills_gap - tail_beta * alpha_erfcx * alpha_decay)
    alpha_term = tail_alpha * _SQRT_2_OVER_PI * alpha_decay
    tail = (
        _HALF_LOG_2PI_E
        - math.log(2.0)
        + torch.log(scaled_mass)
        + 0.5 * (alpha_term - beta_terms) / scaled_mass
    )
    return torch.where(in_tail, tail, central)


def _log_normal_pdf(x: Tensor) -> Tensor:
    return -0.5 * x * x - 0.5 * _LOG_2PI


def _ndtri_exp_lower_tail(log_p: Tensor) -> Tensor:
    """``Φ⁻¹(exp(log_p))`` for ``log_p ≪ 0``: asymptotic start, then Newton on ``log Φ(x)``.

    ``log Φ`` is concave, so Newton's iterates approach the root monotonically; from the
    asymptotic start ``x² ≈ t − log t − log 2π`` (``t = −2 log p``) three steps reach float64
    precision.
    """
    t = -2.0 * log_p
    x = -torch.sqrt(t - torch.log(t) - _LOG_2PI)
    for _ in range(_NEWTON_STEPS):
        x = x - (_log_ndtr(x) - log_p) * _cdf_over_pdf(x)
    return x


def _ndtri_exp(log_p: Tensor) -> Tensor:
    """``Φ⁻¹(exp(log_p))``, also where ``exp(log_p)`` underflows (scipy's ``ndtri_exp``).

    Both branches get a harmless input where they are not selected, so no inf/nan leaks into
    the gradient through ``torch.where``.
    """
    in_tail = log_p < _LOG_P_TAIL
    central_log_p = torch.where(in_tail, torch.full_like(log_p, -1.0), log_p)
    central = torch.special.ndtri(central_log_p.exp().clamp(max=_LARGEST_BELOW_ONE))
    tail_log_p = torch.where(in_tail, log_p, torch.full_like(log_p, 2.0 * _LOG_P_TAIL))
    return torch.where(in_tail, _ndtri_exp_lower_tail(tail_log_p), central)


def _sample_truncated_normal(
    mu: Tensor, sigma: Tensor, low: float, high: float, generator: torch.Generator | None
) -> Tensor:
    """One draw of ``N(μ, σ²)`` truncated to ``[low, high]`` per element, by the inverse CDF.

    With ``α = (low − μ)/σ`` and ``β = (high − μ)/σ`` the standardised draw is
    ``Φ⁻¹(Φ(α) + u·(Φ(β) − Φ(α)))``, ``u ~ U(0, 1)``. It is computed in log space on the
    mirrored interval (whichever of ``[α, β]`` and ``[−β, −α]`` lies more on the left), so an
    interval deep in a tail (e.g. μ = 1, σ = 0.01 gives β = −100, Φ(β) ≈ e⁻⁵⁰⁰⁵) still gives
    exact draws instead of collapsing onto a clipping bound. Differentiable in μ and σ.
    """
    alpha = (low - mu) / sigma
    beta = (high - mu) / sigma
    mirror = alpha + beta > 0
    left = torch.where(mirror, -beta, alpha)
    right = torch.where(mirror, -alpha, beta)
    uniform = torch.rand(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    log_uniform = torch.log(uniform.clamp_(min=torch.finfo(mu.dtype).tiny))
    log_cdf = torch.logaddexp(_log_ndtr(left), log_uniform + _log_ndtr_diff(left, right))
    standard = torch.clamp(_ndtri_exp(log_cdf), left, right)
    standard = torch.where(mirror, -standard, standard)
    return torch.clamp(mu + sigma * standard, low, high)


# --------------------------------------------------------------------------------------------
# Structured Bayesian pruning (Neklyudov et al. 2017)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


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
