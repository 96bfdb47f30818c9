"""Tests of ``dropouts.sparse``: sparse variational dropout and structured Bayesian pruning.

Statistical checks use bounds derived from the sampling distribution (4 standard errors);
closed forms are checked against scipy quadrature of the defining integrals.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate, stats
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from dropouts.sparse import LinearSVDO, SBPDropout, elbo_loss, svdo_kl, total_kl

Z_BOUND = 4.0  # standard errors allowed in a Monte Carlo comparison
K1, K2, K3 = 0.63576, 1.87320, 1.48695  # Molchanov et al. 2017
SBP_LOW, SBP_HIGH = -20.0, 0.0


# --------------------------------------------------------------------------------------------
# LinearSVDO
# --------------------------------------------------------------------------------------------


def _svdo_layer_with_spread_alphas(seed: int = 0) -> LinearSVDO:
    """A 5 → 3 layer whose log α spread over [−4, 2] (inside the ±8 clip)."""
    torch.manual_seed(seed)
    layer = LinearSVDO(5, 3)
    with torch.no_grad():
        layer.theta.copy_(torch.randn(3, 5))
        layer.bias.copy_(torch.randn(3))  # type: ignore[union-attr]
        log_alpha = torch.empty(3, 5).uniform_(-4.0, 2.0)
        layer.log_sigma2.copy_(log_alpha + torch.log(layer.theta**2 + 1e-8))
    return layer


def _expected_alpha(layer: LinearSVDO) -> torch.Tensor:
    """α from the definition: exp(clip(log σ² − log(θ² + 1e-8), −8, 8))."""
    log_alpha = layer.log_sigma2 - torch.log(layer.theta**2 + 1e-8)
    return torch.exp(log_alpha.clamp(-8.0, 8.0))


def test_svdo_train_output_mean_and_variance_match_local_reparameterisation() -> None:
    layer = _svdo_layer_with_spread_alphas()
    layer.generator = torch.Generator().manual_seed(1)
    n = 40_000
    x = torch.tensor([[0.5, -1.0, 2.0, 0.3, -0.7]])
    with torch.no_grad():
        samples = layer(x.expand(n, 5))
        true_mean = x @ layer.theta.T + layer.bias
        true_variance = (x * x) @ (_expected_alpha(layer) * layer.theta**2).T + 1e-8
    mean_error = (samples.mean(0) - true_mean[0]).abs()
    assert torch.all(mean_error <= Z_BOUND * torch.sqrt(true_variance[0] / n))
    # The output is exactly Gaussian given x: Var(S²) = 2σ⁴/(n − 1).
    variance_error = (samples.var(0) - true_variance[0]).abs()
    assert torch.all(variance_error <= Z_BOUND * true_variance[0] * math.sqrt(2.0 / (n - 1)))


def test_svdo_noise_is_independent_per_example_and_seeded_by_generator() -> None:
    layer = _svdo_layer_with_spread_alphas()
    x = torch.ones(2, 5)
    layer.generator = torch.Generator().manual_seed(3)
    first = layer(x)
    layer.generator = torch.Generator().manual_seed(3)
    second = layer(x)
    assert torch.equal(first, second)
    assert not torch.equal(first[0], first[1])


def test_svdo_eval_is_deterministic_and_prunes_large_log_alpha() -> None:
    layer = _svdo_layer_with_spread_alphas()
    with torch.no_grad():
        layer.log_sigma2[0, :2] += 10.0  # log α ≥ 6 > 3 for these two weights
    layer.eval()
    x = torch.randn(7, 5)
    with torch.no_grad():
        out = layer(x)
        again = layer(x)
        log_alpha = layer.log_sigma2 - torch.log(layer.theta**2 + 1e-8)
        kept = (log_alpha.clamp(-8, 8) < 3.0).float()
        expected = x @ (layer.theta * kept).T + layer.bias
    assert torch.equal(out, again)
    torch.testing.assert_close(out, expected)
    assert torch.equal(layer.pruned_mask(), log_alpha.clamp(-8, 8) >= 3.0)
    assert layer.pruned_mask()[0, :2].all()
    assert layer.sparsity() == pytest.approx(float(1.0 - kept.mean()))


def _negative_kl_formula(log_alpha: float) -> float:
    """−KL ≈ k1·σ(k2 + k3 log α) − ½ log(1 + 1/α) − k1, written out with math."""
    sigmoid = 1.0 / (1.0 + math.exp(-(K2 + K3 * log_alpha)))
    return K1 * sigmoid - 0.5 * math.log1p(math.exp(-log_alpha)) - K1


def _exact_negative_kl(log_alpha: float) -> float:
    """−KL(N(1, α) ‖ log-uniform) = ½ log α − E log|1 + √α z| − (γ + log 2)/2, by quadrature.

    The constant is the one that makes −KL → 0 as α → ∞, Molchanov's normalisation.
    """
    scale = math.exp(0.5 * log_alpha)
    singular = -1.0 / scale

    def integrand(z: float) -> float:
        return math.log(abs(1.0 + scale * z)) * float(stats.norm.pdf(z))

    left, _ = integrate.quad(integrand, -np.inf, singular, limit=200)
    right, _ = integrate.quad(integrand, singular, np.inf, limit=200)
    return 0.5 * log_alpha - (left + right) - 0.5 * (np.euler_gamma + math.log(2.0))


def test_svdo_kl_matches_formula_and_is_monotone_towards_zero() -> None:
    points = [-8.0, -2.0, 0.0, 3.0, 8.0]
    values = svdo_kl(torch.tensor(points, dtype=torch.float64))
    for point, value in zip(points, values.tolist(), strict=True):
        assert value == pytest.approx(-_negative_kl_formula(point), rel=1e-12)
    grid = torch.linspace(-8.0, 8.0, 2001, dtype=torch.float64)
    kl_on_grid = svdo_kl(grid)
    assert torch.all(kl_on_grid[1:] < kl_on_grid[:-1])  # decreasing in log α
    assert torch.all(kl_on_grid > 0)
    far = svdo_kl(torch.tensor([8.0, 12.0, 16.0, 24.0], dtype=torch.float64))
    assert torch.all(far[1:] < far[:-1])
    assert float(far[-1]) < 1e-8  # −KL → 0 as log α → ∞


def test_svdo_kl_approximation_is_close_to_the_exact_kl() -> None:
    # Molchanov et al. fit k1..k3 to the exact KL; quadrature shows a max error of ≈0.009 nats.
    for log_alpha in [-6.0, -4.0, -2.0, 0.0, 1.0, 3.0, 6.0]:
        approx = -float(svdo_kl(torch.tensor(log_alpha, dtype=torch.float64)))
        assert approx == pytest.approx(_exact_negative_kl(log_alpha), abs=0.01)


def test_svdo_layer_kl_sums_elementwise_kl_with_gradients() -> None:
    layer = _svdo_layer_with_spread_alphas()
    kl = layer.kl()
    torch.testing.assert_close(kl, svdo_kl(_expected_alpha(layer).log()).sum())
    kl.backward()
    assert layer.log_sigma2.grad is not None
    assert torch.all(layer.log_sigma2.grad < 0)  # more noise → less KL


def test_elbo_loss_and_total_kl() -> None:
    model = torch.nn.Sequential(LinearSVDO(4, 3), SBPDropout(3), LinearSVDO(3, 2))
    expected = model[0].kl() + model[1].kl() + model[2].kl()
    torch.testing.assert_close(total_kl(model), expected)
    nll = torch.tensor(0.7)
    loss = elbo_loss(nll, total_kl(model), n_train=500, kl_weight=0.25)
    torch.testing.assert_close(loss, nll + 0.25 * expected / 500)


# --------------------------------------------------------------------------------------------
# LinearSVDO on a real task: digits + planted noise features
# --------------------------------------------------------------------------------------------

N_NOISE_FEATURES = 32
N_PIXELS = 64


def _digits_with_noise_features() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """8×8 digits scaled to [0, 1] plus 32 U(0, 1) features independent of the label."""
    pixels, labels = load_digits(return_X_y=True)
    x = torch.tensor(pixels / 16.0, dtype=torch.float32)
    noise = torch.rand(x.shape[0], N_NOISE_FEATURES)  # same range as the pixel intensities
    features = torch.cat([x, noise], dim=1)
    y = torch.tensor(labels)
    order = torch.randperm(len(y))
    train, test = order[:1300], order[1300:]
    return features[train], y[train], features[test], y[test]


def _train_svdo_classifier(x: torch.Tensor, y: torch.Tensor, steps: int) -> LinearSVDO:
    """Adam + cosine decay on the per-example negative ELBO, KL weight warmed up over 30%."""
    layer = LinearSVDO(x.shape[1], 10)
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    n_train = len(y)
    for step in range(steps):
        batch = torch.randint(0, n_train, (100,))
        kl_weight = min(1.0, step / (0.3 * steps))
        nll = F.cross_entropy(layer(x[batch]), y[batch])
        loss = elbo_loss(nll, layer.kl(), n_train, kl_weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return layer.eval()


@pytest.mark.slow
def test_svdo_prunes_planted_noise_features_on_digits() -> None:
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = _digits_with_noise_features()
    layer = _train_svdo_classifier(x_train, y_train, steps=3000)
    pruned = layer.pruned_mask()
    noise_pruned = float(pruned[:, N_PIXELS:].float().mean())
    pixel_pruned = float(pruned[:, :N_PIXELS].float().mean())
    with torch.no_grad():
        accuracy = float((layer(x_test).argmax(1) == y_test).float().mean())
    baseline = LogisticRegression(max_iter=2000).fit(x_train.numpy(), y_train.numpy())
    baseline_accuracy = float(baseline.score(x_test.numpy(), y_test.numpy()))
    # Measured (seed 0): noise 0.98, pixels 0.68, accuracy 0.958 vs logistic regression ≈ 0.96.
    assert noise_pruned > 0.9
    assert pixel_pruned < noise_pruned - 0.15
    assert accuracy >= baseline_accuracy - 0.03


# --------------------------------------------------------------------------------------------
# SBPDropout
# --------------------------------------------------------------------------------------------


def _sbp_with(mu: float, sigma: float, num_features: int, seed: int = 0) -> SBPDropout:
    module = SBPDropout(num_features, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        module.mu.fill_(mu)
        module.log_sigma.fill_(math.log(sigma))
    return module


def _truncnorm(mu: float, sigma: float) -> stats.rv_continuous:
    """The distribution of log θ: N(μ, σ²) truncated to [−20, 0]."""
    alpha, beta = (SBP_LOW - mu) / sigma, (SBP_HIGH - mu) / sigma
    return stats.truncnorm(alpha, beta, loc=mu, scale=sigma)


def _theta_moments_by_quadrature(mu: float, sigma: float) -> tuple[float, float]:
    """E[θ] and E[θ²] with θ = exp(log θ), by scipy's expectation integral."""
    log_theta = _truncnorm(mu, sigma)
    return float(log_theta.expect(np.exp)), float(log_theta.expect(lambda t: np.exp(2.0 * t)))


def test_sbp_closed_form_mean_and_snr_match_monte_carlo() -> None:
    module = _sbp_with(-1.0, 0.8, num_features=200_000)
    with torch.no_grad():
        theta = module.sample_theta().double()
        closed_mean = float(module.expected_theta()[0])
        closed_snr = float(module.snr()[0])
    n = theta.numel()
    mc_mean = float(theta.mean())
    assert abs(mc_mean - closed_mean) <= Z_BOUND * float(theta.std()) / math.sqrt(n)
    # Delta-method standard error of the SNR g(m1, m2) = m1 / sqrt(m2 − m1²).
    m1, m2 = mc_mean, float((theta**2).mean())
    variance = m2 - m1 * m1
    gradient = torch.tensor([m2 / variance**1.5, -m1 / (2.0 * variance**1.5)], dtype=torch.float64)
    covariance = torch.cov(torch.stack([theta, theta**2])) / n
    snr_standard_error = math.sqrt(float(gradient @ covariance @ gradient))
    assert abs(m1 / math.sqrt(variance) - closed_snr) <= Z_BOUND * snr_standard_error


@pytest.mark.parametrize(
    ("mu", "sigma"), [(-1.0, 0.8), (0.0, math.exp(-5)), (-10.0, 3.0), (0.5, 0.2), (-19.0, 1.5)]
)
def test_sbp_closed_forms_match_quadrature(mu: float, sigma: float) -> None:
    module = _sbp_with(mu, sigma, num_features=1)
    mean, second_moment = _theta_moments_by_quadrature(mu, sigma)
    snr = mean / math.sqrt(second_moment - mean * mean)
    with torch.no_grad():
        assert float(module.expected_theta()[0]) == pytest.approx(mean, rel=1e-4)
        assert float(module.snr()[0]) == pytest.approx(snr, rel=1e-3)


@pytest.mark.parametrize(("mu", "sigma"), [(-1.0, 0.8), (-5.0, 4.0), (0.5, 0.2), (-19.0, 1.5)])
def test_sbp_kl_equals_negative_entropy_plus_log_interval(mu: float, sigma: float) -> None:
    """KL(q ‖ U[a, b]) on log θ = ∫ q log q + log(b − a), integrated numerically."""
    log_theta = _truncnorm(mu, sigma)

    def q_log_q(t: float) -> float:
        density = float(log_theta.pdf(t))
        return density * math.log(density) if density > 0 else 0.0

    neg_entropy, _ = integrate.quad(q_log_q, SBP_LOW, SBP_HIGH, points=[mu], limit=400)
    expected_kl = neg_entropy + math.log(SBP_HIGH - SBP_LOW)
    with torch.no_grad():
        kl = float(_sbp_with(mu, sigma, num_features=1).kl())
    assert kl == pytest.approx(expected_kl, rel=1e-4, abs=1e-6)
    assert kl >= 0.0


EXTREME_PARAMETERS = [
    (mu, log_sigma) for mu in (-20.0, -1.0, 0.0, 1.0, 5.0) for log_sigma in (-20.0, -5.0, 0.0, 5.0)
]


def test_sbp_samples_and_closed_forms_are_finite_at_extreme_parameters() -> None:
    module = SBPDropout(len(EXTREME_PARAMETERS), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        module.mu.copy_(torch.tensor([mu for mu, _ in EXTREME_PARAMETERS]))
        module.log_sigma.copy_(torch.tensor([ls for _, ls in EXTREME_PARAMETERS]))
    draws = torch.stack([module.sample_theta() for _ in range(200)])
    assert torch.all(draws > 0) and torch.all(draws <= 1)
    expected = module.expected_theta()
    assert torch.all(expected > 0) and torch.all(expected <= 1)
    snr = module.snr()
    assert torch.all(torch.isfinite(snr)) and torch.all(snr > 0)
    kl = module.kl()
    assert torch.isfinite(kl) and float(kl.detach()) >= 0
    (kl + draws.sum() + expected.sum() + snr.sum()).backward()
    assert module.mu.grad is not None and module.log_sigma.grad is not None
    assert torch.all(torch.isfinite(module.mu.grad)) and torch.all(
        torch.isfinite(module.log_sigma.grad)
    )


def _closed_forms_in_high_precision(mu: float, log_sigma: float) -> tuple[float, float, float]:
    """E[θ], SNR and KL from Neklyudov et al.'s formulas evaluated with 80-digit mpmath."""
    with mpmath.workdps(80):
        m, s = mpmath.mpf(mu), mpmath.exp(log_sigma)
        alpha, beta = (SBP_LOW - m) / s, (SBP_HIGH - m) / s

        def mass(low: mpmath.mpf, high: mpmath.mpf) -> mpmath.mpf:  # Φ(high) − Φ(low)
            if low + high > 0:
                return mpmath.ncdf(-low) - mpmath.ncdf(-high)
            return mpmath.ncdf(high) - mpmath.ncdf(low)

        z = mass(alpha, beta)
        mean = mpmath.exp(m + s**2 / 2) * mass(s - beta, s - alpha) / z
        second = mpmath.exp(2 * m + 2 * s**2) * mass(2 * s - beta, 2 * s - alpha) / z
        edges = alpha * mpmath.npdf(alpha) - beta * mpmath.npdf(beta)
        kl = (
            -mpmath.log(s)
            - mpmath.log(z)
            - edges / (2 * z)
            + mpmath.log(SBP_HIGH - SBP_LOW)
            - mpmath.log(2 * mpmath.pi * mpmath.e) / 2
        )
        return float(mean), float(mean / mpmath.sqrt(second - mean**2)), float(kl)


@pytest.mark.parametrize(
    ("mu", "log_sigma"),
    [
        (0.0, -12.0),
        (1.0, -20.0),
        (5.0, -5.0),
        (2.0, -1.0),
        (-20.0, 5.0),
        (-1.0, 2.0),
        (-20.0, -20.0),
    ],
)
def test_sbp_closed_forms_stay_accurate_at_extreme_parameters(mu: float, log_sigma: float) -> None:
    """β = −μ/σ reaches −5e8 here; naive Φ differences underflow and cancel at such values."""
    mean, snr, kl = _closed_forms_in_high_precision(mu, log_sigma)
    module = SBPDropout(1)
    with torch.no_grad():
        module.mu.fill_(mu)
        module.log_sigma.fill_(log_sigma)
        assert float(module.expected_theta()[0]) == pytest.approx(mean, rel=1e-6)
        assert float(module.kl()) == pytest.approx(kl, rel=1e-6)
        if snr < 1e4:  # beyond, float64 cannot resolve Var θ / E[θ]²; only "huge" is promised
            assert float(module.snr()[0]) == pytest.approx(snr, rel=1e-5)
        else:
            assert float(module.snr()[0]) > 1e4


@pytest.mark.parametrize(("mu", "sigma"), [(-1.0, 0.8), (1.0, 0.01), (-19.5, 2.0)])
def test_sbp_sampler_follows_the_truncated_normal(mu: float, sigma: float) -> None:
    """Kolmogorov–Smirnov against scipy's truncnorm; (1, 0.01) has β = −100, Φ(β) ≈ e⁻⁵⁰⁰⁵."""
    module = _sbp_with(mu, sigma, num_features=20_000)
    with torch.no_grad():
        log_theta = module.sample_theta().double().log().numpy()
    reference = _truncnorm(mu, sigma)
    assert stats.kstest(log_theta, reference.cdf).pvalue > 1e-4
    standard_error = float(reference.std()) / math.sqrt(log_theta.size)
    assert abs(float(log_theta.mean()) - float(reference.mean())) <= Z_BOUND * standard_error


def test_sbp_noise_is_constant_over_all_non_channel_axes() -> None:
    module = _sbp_with(-1.0, 0.8, num_features=6)
    x = torch.ones(4, 6, 5, 3)
    multiplier = module(x)
    per_channel = multiplier.transpose(0, 1).reshape(6, -1)
    assert torch.all(per_channel == per_channel[:, :1])
    assert per_channel[:, 0].unique().numel() == 6
    last_axis = SBPDropout(6, channel_dim=-1)
    sequence_out = last_axis(torch.ones(2, 7, 6))
    assert torch.all(sequence_out == sequence_out[:1, :1, :])


def test_sbp_fresh_noise_every_forward_and_generator_reproducible() -> None:
    x = torch.ones(3, 8)
    first = _sbp_with(-1.0, 0.8, num_features=8, seed=5)
    second = _sbp_with(-1.0, 0.8, num_features=8, seed=5)
    a, b = first(x), first(x)
    assert not torch.equal(a, b)
    assert torch.equal(a, second(x))


def test_sbp_eval_is_deterministic_and_removes_low_snr_channels() -> None:
    module = SBPDropout(3)
    with torch.no_grad():
        module.mu.copy_(torch.tensor([-1.0, -10.0, 0.0]))
        module.log_sigma.copy_(torch.log(torch.tensor([0.8, 3.0, 0.01])))
    module.eval()
    x = torch.randn(5, 3, 4)
    out, again = module(x), module(x)
    assert torch.equal(out, again)
    with torch.no_grad():
        keep = (module.snr() > 1.0).float()
        expected = x * (module.expected_theta() * keep).view(1, 3, 1)
    assert keep.tolist() == [1.0, 0.0, 1.0]
    torch.testing.assert_close(out, expected)
    assert torch.all(out[:, 1] == 0)
    assert module.sparsity() == pytest.approx(1.0 / 3.0)


def test_sbp_rejects_wrong_feature_count() -> None:
    with pytest.raises(ValueError, match="features"):
        SBPDropout(4)(torch.ones(2, 5))
