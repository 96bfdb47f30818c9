"""The dense view's ensemble (see :mod:`dropouts.lab.views.dense`): the mean output over sampled
sub-networks and, for small networks with binary masks, exactly over all of them; the
DropConnect unit's pre-activation against Wan et al.'s Gaussian, and AlphaDropout's activation
histograms against plain dropout's; the :class:`DenseTheory` that holds them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as TF
from torch import Tensor

from dropouts import functional as F
from dropouts.functional.elementwise import SELU_ALPHA_PRIME
from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import Json, frame_generator, number
from dropouts.lab.views.dense_network import Network, Pass, activation, forward

ENSEMBLE_SAMPLES = 2000  # sub-networks averaged for the ensemble mean
EXACT_LIMIT = 12  # binary masks on at most this many hidden neurons: all 2^n enumerated
UNIT_SAMPLES = 4000  # DropConnect: masks drawn for the pre-activation histogram
HISTOGRAM_BINS = 40
ALPHA_BATCH = 4000  # AlphaDropout: inputs whose activations make the histograms
# The ensemble, the DropConnect unit's masks and AlphaDropout's batch are drawn from streams of
# their own (fixed: the theory does not depend on the page's seed, only on the setting).
THEORY_SEED = 7
ENSEMBLE_ITERATION = 10**9


def exact_mean(
    network: Network, x: Tensor, method: str, params: Mapping[str, ParamValue]
) -> Tensor | None:
    """The output for ``x`` ``(1, 2)`` averaged over EVERY sub-network, each weighted by its
    probability: for binary masks on neurons (standard dropout, AlphaDropout, Standout) with
    at most :data:`EXACT_LIMIT` hidden neurons; None otherwise. All 2^n patterns go through
    the network at once, as one batch."""
    if method not in ("standard", "alpha", "standout"):
        return None
    sizes = network.sizes[1:-1]
    units = sum(sizes)
    if units > EXACT_LIMIT:
        return None
    patterns = torch.tensor(list(itertools.product((0.0, 1.0), repeat=units)), dtype=x.dtype)
    h = x.expand(patterns.shape[0], -1)
    probability = torch.ones(patterns.shape[0], dtype=x.dtype)
    start = 0
    for size, (weight, bias) in zip(sizes, network.layers[:-1], strict=True):
        kept = patterns[:, start : start + size]
        start += size
        pre = TF.linear(h, weight, bias)
        activated = activation(network.activation, pre)
        if method == "standout":
            keep = F.standout_keep_probability(
                h, pre, alpha=number(params, "alpha"), beta=number(params, "beta"),
                form="tied" if params["form"] == "tied" else "additive",
            )  # fmt: skip
            probability = probability * torch.where(kept.bool(), keep, 1.0 - keep).prod(dim=1)
            h = activated * kept
        else:
            p = number(params, "p")
            odds = torch.where(kept.bool(), 1.0 - p, p).prod(dim=1)
            probability = probability * odds
            h = _fixed_mask(activated, kept, method, params)
    outputs = torch.softmax(TF.linear(h, *network.layers[-1]), dim=-1)
    return (probability[:, None] * outputs).sum(dim=0, keepdim=True)


def _fixed_mask(h: Tensor, kept: Tensor, method: str, params: Mapping[str, ParamValue]) -> Tensor:
    """``h`` under a given 0/1 pattern, as the method's training pass would transform it."""
    p = number(params, "p")
    if method == "standard":
        scale = 1.0 / (1.0 - p) if params["scaling"] == "inverted" and p < 1.0 else 1.0
        return h * kept * scale
    a, b = F.alpha_dropout_affine(p)
    return torch.where(kept.bool(), h * a + b, a * SELU_ALPHA_PRIME + b)


@dataclass(frozen=True)
class DenseTheory:
    method: str
    network: Network
    x: Tensor  # (1, 2): the input example
    test: Pass  # the test-time network (the method's rule)
    expected_dropped_fraction: float
    ensemble_mean: tuple[float, float]  # over ENSEMBLE_SAMPLES sampled sub-networks
    ensemble_std: tuple[float, float]  # of the sampled outputs (for the standard error)
    exact: tuple[float, float] | None  # over every sub-network, when small and binary
    extra: dict[str, Json]  # the method's own panel (DropConnect unit, AlphaDropout histograms)


def _histogram(values: Tensor, low: float, high: float) -> list[int]:
    counts = torch.histc(values.double().clamp(low, high), bins=HISTOGRAM_BINS, min=low, max=high)
    return [int(c) for c in counts.tolist()]


def _edges(low: float, high: float) -> list[float]:
    return [low + (high - low) * k / HISTOGRAM_BINS for k in range(HISTOGRAM_BINS + 1)]


def dropconnect_unit(
    network: Network, test: Pass, params: Mapping[str, ParamValue], seed: int
) -> dict[str, Json]:
    """Wan et al.'s test-time panel for one hidden unit, the first of the LAST hidden layer
    (the most incoming connections): its pre-activation ``u = (M * W) v + m_b * b`` over many
    masks, for the layer's input ``v`` at test time, against the moment-matched Gaussian, and
    what each test-time rule outputs."""
    layer = len(network.layers) - 2  # the last hidden layer
    weight, bias = network.layers[layer]
    v = test.values[layer][:1]
    p = number(params, "p")
    generator = frame_generator(seed, ENSEMBLE_ITERATION + 1)
    batch = v.expand(UNIT_SAMPLES, -1)
    result = F.dropconnect_linear(
        batch, weight[:1], bias[:1], p, generator=generator, return_mask=True
    )
    assert isinstance(result, tuple)
    pre = result[0][:, 0]
    mean, variance = F.dropconnect_moments(v, weight[:1], bias[:1], p, scale=True)
    mu, var = float(mean[0, 0]), float(variance[0, 0])
    sd = math.sqrt(var)
    low, high = mu - 4 * sd - 1e-6, mu + 4 * sd + 1e-6
    edges = torch.tensor(_edges(low, high), dtype=torch.float64)
    if sd > 0:
        cdf = 0.5 * torch.erfc(-(edges - mu) / (sd * math.sqrt(2.0)))
    else:
        cdf = (edges >= mu).double()
    gaussian = (UNIT_SAMPLES * cdf.diff()).tolist()
    samples = int(number(params, "samples"))
    noise = torch.randn((samples,), generator=generator, dtype=torch.float64)
    act = network.activation
    return {
        "layer": layer + 1,
        "unit": 0,
        "inputs": int(weight.shape[1]) + 1,
        "edges": _edges(low, high),
        "sampled": _histogram(pre, low, high),
        "gaussian": gaussian,
        "sample_mean": float(pre.mean()),
        "sample_variance": float(pre.var(unbiased=True)),
        "moment_mean": mu,
        "moment_variance": var,
        "mean_rule": float(activation(act, torch.tensor(mu))),
        "gaussian_rule": float(activation(act, mu + sd * noise).mean()),
        "sampled_output": float(activation(act, pre).mean()),
        "samples": samples,
    }


def alpha_histograms(params: Mapping[str, ParamValue], seed: int) -> dict[str, Json]:
    """A SELU layer's activations at its fixed point (mean 0, variance 1: Klambauer et al.'s
    self-normalising regime), before dropout, after AlphaDropout and after plain dropout at the
    same p: AlphaDropout keeps the mean and the variance; plain dropout, even inverted, inflates
    the variance (to 1 / (1 - p)) and piles units on 0."""
    generator = frame_generator(seed, ENSEMBLE_ITERATION + 2)
    before = torch.randn((ALPHA_BATCH,), generator=generator, dtype=torch.float64)
    p = number(params, "p")
    alpha = F.alpha_dropout(before, p, generator=generator)
    plain = F.dropout(before, p, generator=generator)
    assert isinstance(alpha, Tensor) and isinstance(plain, Tensor)
    low, high = -4.0, 4.0

    def summary(values: Tensor) -> dict[str, Json]:
        return {
            "counts": _histogram(values, low, high),
            "mean": float(values.mean()),
            "variance": float(values.var(unbiased=True)),
        }

    return {
        "edges": _edges(low, high),
        "before": summary(before),
        "alpha": summary(alpha),
        "plain": summary(plain),
        "units": ALPHA_BATCH,
        "dropped_value": F.alpha_dropout_affine(p)[0] * SELU_ALPHA_PRIME
        + F.alpha_dropout_affine(p)[1]
        if p < 1.0
        else 0.0,
    }


def ensemble(
    network: Network, x: Tensor, method: str, params: Mapping[str, ParamValue], seed: int
) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of the output over :data:`ENSEMBLE_SAMPLES` sampled
    sub-networks (training-mode passes, a fresh mask for each)."""
    generator = frame_generator(seed, ENSEMBLE_ITERATION)
    outputs = forward(network, x.expand(ENSEMBLE_SAMPLES, -1), method, params, generator).output
    return outputs.mean(dim=0), outputs.std(dim=0)
