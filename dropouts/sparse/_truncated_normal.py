"""Truncated normal helpers (float64, log space) for structured Bayesian pruning: ``log Φ`` and
its differences without underflow, the moment generating function and the entropy of a standard
normal truncated to ``[α, β]``, and an inverse-CDF sampler that stays exact deep in a tail."""

from __future__ import annotations

import math

import torch
from torch import Tensor

_LOG_2PI = math.log(2.0 * math.pi)
_HALF_LOG_2PI_E = 0.5 * (_LOG_2PI + 1.0)
_SQRT_2 = math.sqrt(2.0)
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi / 2.0)
_LOG_NDTR_ERFCX_BELOW = -10.0
_MILLS_SERIES_FROM = 100.0
_LOG_P_TAIL = -700.0  # below this, exp(log p) is no longer a normal float64
_NEWTON_STEPS = 3
_LARGEST_BELOW_ONE = 1.0 - 2.0**-53


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
