"""The image view (dropouts.lab.views.image) and the closed-form expectations it shows.

Every statistical bound comes from the sampling distribution (tests/stats.py, 4 standard
errors): binomial for pixel and channel dropout, the sample mean of the per-frame dropped
fraction with its standard error for Cutout, DropBlock and stochastic dropout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
import torch
from stats import Z, assert_binomial_fraction, assert_mean, assert_variance, seeded

from dropouts import functional as F
from dropouts.lab import expectations
from dropouts.lab.registry import ParamValue, get_method, validate_params
from dropouts.lab.views.image import (
    HISTOGRAM_BINS,
    IMAGE_METHODS,
    ImageFrame,
    ImageTheory,
    frame_generator,
    image_frame,
    image_theory,
    mask_statistics,
)

HEIGHT, WIDTH = 120, 160  # not square, so that rows and columns cannot be swapped silently
PICTURE = torch.rand(3, HEIGHT, WIDTH, generator=seeded(1234)) * 0.9 + 0.05


def params_of(method_id: str, **given: object) -> dict[str, ParamValue]:
    return validate_params(get_method(method_id), {k: str(v) for k, v in given.items()})


def frames(
    method_id: str,
    params: Mapping[str, ParamValue],
    iterations: range,
    *,
    seed: int = 0,
    picture: torch.Tensor = PICTURE,
) -> tuple[ImageTheory, list[ImageFrame]]:
    theory = image_theory(method_id, params, picture.shape[1], picture.shape[2])
    return theory, [image_frame(method_id, picture, params, seed, i, theory) for i in iterations]


# ---------------------------------------------------------------- shapes and statistics


def test_image_methods_are_the_registry_methods_with_an_image_view() -> None:
    for method_id in IMAGE_METHODS:
        assert "image" in get_method(method_id).views
    with pytest.raises(KeyError, match="no image view"):
        image_theory("dropconnect", {}, HEIGHT, WIDTH)


DEGENERATE = {
    "standard": {"p": 0},
    "gaussian": {"sigma": 0},
    "spatial": {"p": 0},
    "cutout": {"n_holes": 0},
    "dropblock": {"p": 0},
    "stochastic": {"mu": 0, "sigma": 0},
}


@pytest.mark.parametrize("degenerate", [False, True], ids=["defaults", "identity"])
@pytest.mark.parametrize("method_id", IMAGE_METHODS)
def test_mask_has_the_unit_shape(method_id: str, degenerate: bool) -> None:
    params = params_of(method_id, **(DEGENERATE[method_id] if degenerate else {}))
    theory, (frame,) = frames(method_id, params, range(3, 4))
    expected = (3, 1, 1) if method_id == "spatial" else (1, HEIGHT, WIDTH)
    assert theory.unit == ("channel" if method_id == "spatial" else "pixel")
    assert tuple(frame.mask.shape) == expected
    assert frame.mask.dtype == torch.float32
    units = frame.mask.flatten().double()
    assert frame.dropped_fraction == pytest.approx(float((units == 0).double().mean()))
    assert frame.mask_mean == pytest.approx(float(units.mean()))
    assert frame.mask_variance == pytest.approx(float(units.var(unbiased=False)), abs=1e-9)
    assert sum(frame.histogram) == units.numel()
    assert len(frame.histogram) == HISTOGRAM_BINS
    ratio = float((PICTURE * frame.mask).mean() / PICTURE.mean())
    assert frame.output_mean_ratio == pytest.approx(ratio, rel=1e-5)
    if degenerate:
        assert bool((frame.mask == 1).all())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_standard_dropped_fraction_is_binomial(p: float) -> None:
    theory, shown = frames("standard", params_of("standard", p=p), range(20))
    assert theory.expected_dropped_fraction == pytest.approx(p)
    assert theory.mask_mean == pytest.approx(1.0)
    assert theory.mask_variance == pytest.approx(p / (1 - p))
    assert theory.test_factor == 1.0
    dropped = sum(int((f.mask == 0).sum()) for f in shown)
    assert_binomial_fraction(dropped, 20 * HEIGHT * WIDTH, p)
    for frame in shown:
        kept = frame.mask[frame.mask != 0]
        torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    units = torch.cat([f.mask.flatten() for f in shown])
    assert_mean(units, 1.0)
    assert_variance(units, p / (1 - p))


def test_standard_original_scaling_keeps_ones_and_scales_at_test_time() -> None:
    p = 0.3
    theory, shown = frames("standard", params_of("standard", p=p, scaling="original"), range(10))
    assert theory.test_factor == pytest.approx(1 - p)
    assert theory.mask_mean == pytest.approx(1 - p)
    assert theory.mask_variance == pytest.approx(p * (1 - p))
    assert theory.histogram_range == (0.0, 1.0)
    for frame in shown:
        assert set(frame.mask.unique().tolist()) == {0.0, 1.0}
    dropped = sum(int((f.mask == 0).sum()) for f in shown)
    assert_binomial_fraction(dropped, 10 * HEIGHT * WIDTH, p)


@pytest.mark.parametrize("scaling", ["inverted", "original"])
def test_spatial_drops_whole_channels_binomially(scaling: str) -> None:
    p = 0.4
    params = params_of("spatial", p=p, scaling=scaling)
    theory, shown = frames("spatial", params, range(600), picture=PICTURE[:, :8, :8])
    assert theory.unit == "channel"
    assert theory.expected_dropped_fraction == pytest.approx(p)
    kept_value = 1 / (1 - p) if scaling == "inverted" else 1.0
    assert theory.test_factor == pytest.approx(1.0 if scaling == "inverted" else 1 - p)
    masks = torch.stack([f.mask.flatten() for f in shown])  # (600, 3)
    assert masks.shape == (600, 3)
    kept = masks[masks != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, kept_value))
    assert_binomial_fraction(int((masks == 0).sum()), masks.numel(), p)
    # The three channels are independent units: each one alone is binomial too.
    for channel in range(3):
        assert_binomial_fraction(int((masks[:, channel] == 0).sum()), 600, p)


@pytest.mark.parametrize(("p", "sigma"), [(0.5, None), (0.2, None), (0.5, 0.3), (0.9, 2.0)])
def test_gaussian_mask_has_mean_one_and_variance_sigma_squared(
    p: float, sigma: float | None
) -> None:
    given: dict[str, object] = {"p": p} if sigma is None else {"p": p, "sigma": sigma}
    theory, shown = frames("gaussian", params_of("gaussian", **given), range(4))
    std = math.sqrt(p / (1 - p)) if sigma is None else sigma
    assert theory.mask_kind == "real"
    assert theory.mask_mean == 1.0
    assert theory.mask_variance == pytest.approx(std**2)
    assert theory.expected_dropped_fraction == 0.0
    units = torch.cat([f.mask.flatten() for f in shown])
    assert_mean(units, 1.0)
    assert_variance(units, std**2)
    assert all(f.dropped_fraction == 0.0 for f in shown)
    # Expected histogram: one count per pixel over the bins, tails folded into the outer ones.
    assert theory.expected_histogram is not None
    assert len(theory.expected_histogram) == HISTOGRAM_BINS
    assert sum(theory.expected_histogram) == pytest.approx(HEIGHT * WIDTH)
    pixels = HEIGHT * WIDTH
    for frame in shown:
        for observed, expected in zip(frame.histogram, theory.expected_histogram, strict=True):
            share = expected / pixels
            bound = Z * math.sqrt(pixels * share * (1 - share)) + 1.0
            assert abs(observed - expected) <= bound


def test_gaussian_with_zero_sigma_is_the_identity() -> None:
    theory, (frame,) = frames("gaussian", params_of("gaussian", sigma=0), range(1))
    assert theory.expected_histogram is None
    assert bool((frame.mask == 1).all())
    assert frame.mask_variance == 0.0


@pytest.mark.parametrize(
    ("size", "holes", "picture"),
    [
        (40, 1, PICTURE),
        (25, 3, PICTURE),
        (96, 1, torch.rand(3, 300, 451, generator=seeded(7))),  # the default on the cat's size
    ],
)
def test_cutout_mean_dropped_fraction_matches_theory(
    size: int, holes: int, picture: torch.Tensor
) -> None:
    params = params_of("cutout", size=size, n_holes=holes)
    theory, shown = frames("cutout", params, range(200), seed=3, picture=picture)
    height, width = picture.shape[1:]
    expected = expectations.cutout_dropped_fraction(size, holes, height, width)
    assert theory.expected_dropped_fraction == pytest.approx(expected)
    assert theory.test_factor == 1.0
    fractions = torch.tensor([f.dropped_fraction for f in shown], dtype=torch.float64)
    assert_mean(fractions, expected)
    for frame in shown[::20]:  # no rescaling: the kept pixels stay 1
        assert bool(((frame.mask == 0) | (frame.mask == 1)).all())


@pytest.mark.parametrize(
    ("p", "block", "picture"),
    [
        (0.2, 15, PICTURE),
        (0.1, 3, PICTURE),
        (0.2, 31, torch.rand(3, 300, 451, generator=seeded(8))),  # the default on the cat's size
    ],
)
def test_dropblock_mean_dropped_fraction_matches_theory(
    p: float, block: int, picture: torch.Tensor
) -> None:
    params = params_of("dropblock", p=p, block_size=block)
    theory, shown = frames("dropblock", params, range(200), seed=4, picture=picture)
    height, width = picture.shape[1:]
    expected = expectations.dropblock_dropped_fraction(p, block, height, width)
    assert theory.expected_dropped_fraction == pytest.approx(expected)
    assert expected <= p
    fractions = torch.tensor([f.dropped_fraction for f in shown], dtype=torch.float64)
    assert_mean(fractions, expected)
    for frame in shown[::20]:
        # Kept pixels are rescaled by numel / count(kept): the mask's mean is exactly 1.
        kept = frame.mask[frame.mask != 0]
        assert frame.mask_mean == pytest.approx(1.0, abs=1e-5)
        torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - frame.dropped_fraction)))


@pytest.mark.parametrize(("mu", "sigma"), [(0.2, 0.1), (0.5, 0.3), (0.0, 0.2)])
def test_stochastic_draws_p_per_frame_and_drops_that_fraction(mu: float, sigma: float) -> None:
    picture = torch.rand(3, 40, 50, generator=seeded(9))
    params = params_of("stochastic", mu=mu, sigma=sigma)
    theory, shown = frames("stochastic", params, range(400), seed=5, picture=picture)
    expected_p = expectations.stochastic_expected_p(mu, sigma)
    assert theory.expected_dropped_fraction == pytest.approx(expected_p)
    p_t = torch.tensor([f.p_t for f in shown], dtype=torch.float64)
    assert bool(((p_t >= 0) & (p_t <= 0.7)).all())
    assert_mean(p_t, expected_p)
    # Given p_t, the number dropped in a frame is Binomial(pixels, p_t): pooled z-score.
    pixels = 40 * 50
    dropped = torch.tensor([f.dropped_fraction * pixels for f in shown], dtype=torch.float64)
    variance = float((pixels * p_t * (1 - p_t)).sum())
    z = float((dropped - pixels * p_t).sum()) / math.sqrt(variance)
    assert abs(z) <= Z
    fractions = dropped / pixels
    assert_mean(fractions, expected_p)
    for frame in shown:
        assert frame.p_t is not None
        kept = frame.mask[frame.mask != 0]
        scale = min(1 / (1 - frame.p_t), 1.5)
        torch.testing.assert_close(kept, torch.full_like(kept, scale))


# ---------------------------------------------------------------- reproducible, addressable


@pytest.mark.parametrize("method_id", IMAGE_METHODS)
def test_frames_are_reproducible_addressable_and_distinct(method_id: str) -> None:
    params = params_of(method_id)
    theory = image_theory(method_id, params, HEIGHT, WIDTH)

    def mask(seed: int, iteration: int) -> torch.Tensor:
        return image_frame(method_id, PICTURE, params, seed, iteration, theory).mask

    torch.manual_seed(1)  # the global generator must play no part
    alone = mask(11, 7)
    torch.manual_seed(2)
    played = [mask(11, i) for i in range(8)]
    assert torch.equal(played[7], alone)
    assert torch.equal(mask(11, 7), alone)
    # Different iterations and different seeds give different masks (a spatial mask has only
    # 3 units, so look for variety among several rather than a difference between two).
    assert len({tuple(m.flatten().tolist()) for m in played}) >= (
        4 if method_id == "spatial" else 8
    )
    other_seed = [mask(12, i) for i in range(8)]
    differing = sum(not torch.equal(a, b) for a, b in zip(played, other_seed, strict=True))
    assert differing >= (4 if method_id == "spatial" else 8)


def test_frame_generator_gives_independent_streams_per_seed_and_iteration() -> None:
    pairs = [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (7, 3), (3, 7), (2**31 - 1, 10**6)]
    streams = {}
    for pair in pairs:
        generator = frame_generator(*pair)
        assert isinstance(generator, torch.Generator)
        assert generator.device.type == "cpu"
        streams[pair] = tuple(torch.rand(8, generator=generator).tolist())
    assert len(set(streams.values())) == len(pairs)
    for pair in pairs:  # the same pair gives the same stream
        again = tuple(torch.rand(8, generator=frame_generator(*pair)).tolist())
        assert again == streams[pair]


# ---------------------------------------------------------------- expectations


def brute_force_one_hole(size: int, height: int, width: int) -> torch.Tensor:
    """P(pixel in the hole) for one hole, by enumerating every centre with the paper's slicing
    (clipped to the image), made exact for odd sizes: rows ``cy - size // 2 .. + size - 1``."""
    covered = torch.zeros(height, width, dtype=torch.float64)
    for cy in range(height):
        for cx in range(width):
            top, left = cy - size // 2, cx - size // 2
            covered[max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] += 1
    return covered / (height * width)


@pytest.mark.parametrize(
    ("size", "holes", "height", "width"),
    [(5, 1, 12, 17), (6, 1, 12, 17), (5, 3, 12, 17), (16, 2, 20, 24), (40, 1, 12, 17)],
)
def test_cutout_dropped_fraction_is_exact(size: int, holes: int, height: int, width: int) -> None:
    one_hole = brute_force_one_hole(size, height, width)
    exact = float((1 - (1 - one_hole) ** holes).mean())
    computed = expectations.cutout_dropped_fraction(size, holes, height, width)
    assert computed == pytest.approx(exact, rel=1e-12)
    # ... and the functional op agrees with it (independent holes, uniform centres).
    masks = F.cutout(
        torch.ones(4000, 1, height, width), size, n_holes=holes, generator=seeded(size + holes)
    )
    fractions = (masks == 0).flatten(1).double().mean(1)
    assert_mean(fractions, computed)


@pytest.mark.parametrize(("size", "area"), [(8, 56.25), (16, 196.0), (20, 284.765625)])
def test_cutout_dropped_fraction_on_cifar_matches_methods_md(size: int, area: float) -> None:
    assert expectations.cutout_dropped_fraction(size, 1, 32, 32) == pytest.approx(area / 1024)


def brute_force_dropblock(p: float, block: int, height: int, width: int) -> float:
    """mean over pixels of 1 - (1 - gamma)^n, n counted by enumerating the valid seeds."""
    block = min(block, height, width)
    gamma = F.dropblock_gamma(p, block, height, width)
    covering = torch.zeros(height, width, dtype=torch.float64)
    for i in range(height - block + 1):
        for j in range(width - block + 1):
            covering[i : i + block, j : j + block] += 1
    return float((1 - (1 - gamma) ** covering).mean())


@pytest.mark.parametrize(
    ("p", "block", "height", "width"),
    [(0.1, 7, 28, 28), (0.2, 3, 14, 14), (0.3, 5, 20, 33), (0.2, 40, 24, 30), (0.5, 1, 16, 16)],
)
def test_dropblock_dropped_fraction_against_simulation(
    p: float, block: int, height: int, width: int
) -> None:
    computed = expectations.dropblock_dropped_fraction(p, block, height, width)
    assert computed == pytest.approx(brute_force_dropblock(p, block, height, width), rel=1e-12)
    if block == 1:
        assert computed == pytest.approx(p)
    masks = F.dropblock(torch.ones(4000, 1, height, width), p, block, generator=seeded(block))
    fractions = (masks == 0).flatten(1).double().mean(1)
    assert_mean(fractions, computed)


@pytest.mark.parametrize(
    ("p", "block", "side", "fraction"),
    [(0.1, 7, 28, 0.0939), (0.1, 7, 14, 0.0929), (0.2, 3, 14, 0.181)],
)
def test_dropblock_dropped_fraction_matches_methods_md(
    p: float, block: int, side: int, fraction: float
) -> None:
    assert expectations.dropblock_dropped_fraction(p, block, side, side) == pytest.approx(
        fraction, abs=5e-4
    )


@pytest.mark.parametrize(
    ("mu", "sigma"), [(0.2, 0.1), (0.02, 0.05), (0.02, 0.224), (0.0, 0.224), (0.6, 0.3), (0.3, 0.0)]
)
def test_stochastic_expected_p_against_monte_carlo(mu: float, sigma: float) -> None:
    generator = seeded(int(mu * 100) + int(sigma * 1000))
    draws = torch.tensor(
        [F.draw_stochastic_p(mu, sigma, generator=generator) for _ in range(20_000)],
        dtype=torch.float64,
    )
    expected = expectations.stochastic_expected_p(mu, sigma)
    if sigma == 0.0:
        assert bool((draws == expected).all())
    else:
        assert_mean(draws, expected)


@pytest.mark.parametrize(
    ("method_id", "given"),
    [
        ("standard", {"p": 0.5}),
        ("standard", {"p": 0.25, "scaling": "original"}),
        ("standard", {"p": 0.0}),
        ("standard", {"p": 1.0}),
        ("spatial", {"p": 0.5}),
        ("cutout", {"size": 64, "n_holes": 3}),
        ("dropblock", {"p": 0.3, "block_size": 9}),
        ("stochastic", {"mu": 0.2, "sigma": 0.2}),
    ],
)
def test_binary_statistics_shortcut_equals_the_full_computation(
    method_id: str, given: dict[str, object]
) -> None:
    """Binary masks skip the histogram pass; the numbers must be the same as with it."""
    params = params_of(method_id, **given)
    theory = image_theory(method_id, params, *PICTURE.shape[1:])
    for iteration in range(12):
        frame = image_frame(method_id, PICTURE, params, 9, iteration, theory)
        units = frame.mask.flatten().double()
        dropped, mean, variance, histogram = mask_statistics(units, theory)
        assert frame.histogram == histogram
        assert frame.dropped_fraction == dropped
        assert frame.mask_mean == pytest.approx(mean, rel=1e-12, abs=1e-12)
        assert frame.mask_variance == pytest.approx(variance, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("method_id", "given"),
    [
        ("standard", {"p": 0.3}),
        ("standard", {"p": 0.3, "scaling": "original"}),
        ("spatial", {"p": 0.6}),
        ("cutout", {}),
    ],
)
def test_the_kept_value_is_every_kept_units_mask_value(
    method_id: str, given: dict[str, object]
) -> None:
    """The theory's kept_value (the lesson asks for it) is what each kept unit is multiplied
    by in every frame; None where kept units differ (DropBlock rescales by the frame's count)."""
    theory, shown = frames(method_id, params_of(method_id, **given), range(5))
    assert theory.kept_value is not None
    for frame in shown:
        kept = frame.mask[frame.mask != 0]
        assert kept.numel() > 0
        torch.testing.assert_close(kept, torch.full_like(kept, theory.kept_value))
    dropblock, _ = frames("dropblock", params_of("dropblock"), range(1))
    assert dropblock.kept_value is None
