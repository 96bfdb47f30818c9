"""The reconstruction view (dropouts.lab.views.reconstruction): why pixel dropout fails on images.

The reconstruction (normalised convolution with its fallbacks) is checked against cases whose
answer is known in closed form and against a direct float64 implementation; the study's
realized fractions against their sampling distributions (tests/stats.py, 4 standard errors);
and the point of the feature, on every sample image: dropping single pixels costs far less
information (a much higher reconstruction PSNR) than Cutout, DropBlock or spatial dropout at
the same expected dropped fraction.
"""

from __future__ import annotations

import math
from functools import cache

import pytest
import torch
import torch.nn.functional as nnf
from stats import Z, assert_binomial_fraction, seeded

import dropouts.lab.views.reconstruction as reconstruction
import dropouts.lab.views.reconstruction_fractions as reconstruction_fractions
from app.config import Settings
from app.images import SAMPLES, normalise
from dropouts import functional as F
from dropouts.lab import expectations
from dropouts.lab.views.reconstruction import (
    EXAMPLE_FRACTION,
    FRACTIONS,
    METHODS,
    Study,
    pixel_dropout_study,
    psnr,
    reconstruct,
)

HEIGHT, WIDTH = 48, 64  # not square, so that rows and columns cannot be swapped silently
PICTURE = torch.rand(3, HEIGHT, WIDTH, generator=seeded(11))
RADIUS = 3  # the window's half-width (7 taps): a unit farther than this from all kept sees none
# Float32 rounding only: a ratio of two sums of 49 terms, values below 1 (ulp 6e-8 each).
RAMP_TOLERANCE = 2e-6


@cache
def sample(sample_id: str) -> torch.Tensor:
    """A sample picture exactly as the app serves it (EXIF, RGB, at most 512 px)."""
    settings = Settings()
    (found,) = [s for s in SAMPLES if s.id == sample_id]
    _, tensor = normalise((settings.samples_dir / found.file).read_bytes(), settings)
    return tensor


@cache
def study_of(sample_id: str) -> Study:
    return pixel_dropout_study(sample(sample_id), seed=0, draws=3)


SAMPLE_IDS = [s.id for s in SAMPLES]


def curve(study: Study, method: str) -> reconstruction.Curve:
    (found,) = [c for c in study.curves if c.method == method]
    return found


def tensor(result: torch.Tensor | tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    assert isinstance(result, torch.Tensor)
    return result


def reference(picture: torch.Tensor, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised convolution written out plainly in float64 (a full 7 x 7 window, one channel
    at a time, fallbacks as documented), and the window weight ``g * kept`` of every unit."""
    x = picture.double()
    channels, height, width = x.shape
    k = (kept != 0).expand(channels, height, width).double()
    offsets = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * offsets**2)
    taps /= taps.sum()
    window = (taps[:, None] * taps[None, :]).expand(channels, 1, -1, -1)
    numerator = nnf.conv2d((x * k)[None], window, padding=RADIUS, groups=channels)[0]
    weight = nnf.conv2d(k[None], window, padding=RADIUS, groups=channels)[0]
    total = float(k.sum())
    overall = float((x * k).sum()) / total if total > 0 else 0.5
    here, here_sums = k.sum(0), (x * k).sum(0)
    out = x.clone()
    for c in range(channels):
        count = float(k[c].sum())
        channel_mean = float((x[c] * k[c]).sum()) / count if count > 0 else overall
        fill = torch.where(here > 0, here_sums / here.clamp(min=1), channel_mean)
        estimate = torch.where(weight[c] > 1e-3, numerator[c] / weight[c].clamp(min=1e-300), fill)
        out[c] = torch.where(k[c] > 0, x[c], estimate.clamp(0, 1))
    return out, weight


# ---------------------------------------------------------------- reconstruct


MASK_SHAPES = {"pixel": (1, HEIGHT, WIDTH), "channel": (3, 1, 1), "unit": (3, HEIGHT, WIDTH)}


@pytest.mark.parametrize("kind", MASK_SHAPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.95])
def test_reconstruct_leaves_kept_units_unchanged(kind: str, p: float) -> None:
    kept = torch.rand(MASK_SHAPES[kind], generator=seeded(int(p * 100))) >= p
    rebuilt = reconstruct(PICTURE, kept)
    assert rebuilt.shape == PICTURE.shape
    assert rebuilt.dtype == torch.float32
    full = kept.expand_as(PICTURE)
    assert torch.equal(rebuilt[full], PICTURE[full])
    assert float(rebuilt.min()) >= 0.0 and float(rebuilt.max()) <= 1.0
    # A 0/1 float mask is the same mask as the booleans.
    assert torch.equal(reconstruct(PICTURE, kept.float()), rebuilt)


@pytest.mark.parametrize("kind", MASK_SHAPES)
@pytest.mark.parametrize("p", [0.3, 0.9])
def test_reconstruct_matches_a_plain_float64_implementation(kind: str, p: float) -> None:
    kept = torch.rand(MASK_SHAPES[kind], generator=seeded(int(p * 10) + len(kind))) >= p
    expected, weight = reference(PICTURE, kept)
    rebuilt = reconstruct(PICTURE, kept).double()
    # A unit whose window weight is within float32 rounding of the 1e-3 threshold may fall on
    # either side of it; there are none in these masks, but never compare such a unit.
    decided = ((weight - 1e-3).abs() > 1e-6).expand_as(rebuilt)
    assert bool(decided.float().mean() > 0.99)
    torch.testing.assert_close(rebuilt[decided], expected[decided], atol=1e-6, rtol=0)


def test_a_constant_picture_is_reconstructed_exactly_under_any_mask() -> None:
    value = 0.37
    picture = torch.full((3, HEIGHT, WIDTH), value)
    hole = torch.ones(1, HEIGHT, WIDTH, dtype=torch.bool)
    hole[:, 5:40, 10:50] = False  # deeper than the window: the channel-mean fallback
    masks = {
        "pixels, p = 0.5": torch.rand(1, HEIGHT, WIDTH, generator=seeded(1)) >= 0.5,
        "pixels, p = 0.99": torch.rand(1, HEIGHT, WIDTH, generator=seeded(2)) >= 0.99,
        "a large hole": hole,
        "units, p = 0.7": torch.rand(3, HEIGHT, WIDTH, generator=seeded(3)) >= 0.7,
    }
    for name, kept in masks.items():
        assert bool(kept.expand(3, HEIGHT, WIDTH).flatten(1).any(1).all()), name
        rebuilt = reconstruct(picture, kept)
        # A weighted mean of equal values is that value, up to float32 rounding of the ratio.
        torch.testing.assert_close(rebuilt, picture, atol=1e-6, rtol=0, msg=name)


def test_a_linear_ramp_is_reconstructed_exactly_at_isolated_interior_pixels() -> None:
    # The window is symmetric, so sum_d g(d) (a + b . d) / sum_d g(d) = a over any set of
    # offsets d symmetric about 0: the 48 neighbours (all kept) minus the centre are.
    rows = torch.arange(HEIGHT, dtype=torch.float32).view(HEIGHT, 1)
    cols = torch.arange(WIDTH, dtype=torch.float32).view(1, WIDTH)
    picture = torch.stack(
        [
            0.1 + 0.01 * rows + 0.005 * cols,
            0.8 - 0.008 * rows + 0.002 * cols,
            0.2 + 0.0 * rows + 0.011 * cols,
        ]
    )
    assert float(picture.min()) >= 0 and float(picture.max()) <= 1
    kept = torch.ones(1, HEIGHT, WIDTH, dtype=torch.bool)
    # Dropped pixels at least RADIUS from the border and more than RADIUS from each other.
    kept[:, RADIUS : HEIGHT - RADIUS : RADIUS + 2, RADIUS : WIDTH - RADIUS : RADIUS + 2] = False
    dropped = ~kept.expand(3, HEIGHT, WIDTH)
    assert int(dropped.sum()) > 200
    rebuilt = reconstruct(picture, kept)
    torch.testing.assert_close(rebuilt[dropped], picture[dropped], atol=RAMP_TOLERANCE, rtol=0)


def test_a_dropped_channel_is_the_grey_of_the_kept_ones() -> None:
    red_blue = reconstruct(PICTURE, torch.tensor([True, False, True]).view(3, 1, 1))
    grey = (PICTURE[0] + PICTURE[2]) / 2
    torch.testing.assert_close(red_blue[1], grey, atol=1e-6, rtol=0)
    green = reconstruct(PICTURE, torch.tensor([False, True, False]).view(3, 1, 1))
    torch.testing.assert_close(green[0], PICTURE[1], atol=0, rtol=0)
    torch.testing.assert_close(green[2], PICTURE[1], atol=0, rtol=0)
    nothing = reconstruct(PICTURE, torch.zeros(3, 1, 1))
    assert bool((nothing == 0.5).all())


def test_a_hole_larger_than_the_window_is_filled_with_the_channel_mean() -> None:
    kept = torch.ones(1, HEIGHT, WIDTH, dtype=torch.bool)
    top, bottom, left, right = 8, 38, 12, 50
    kept[:, top:bottom, left:right] = False
    rebuilt = reconstruct(PICTURE, kept)
    means = PICTURE[:, kept[0]].double().mean(1)
    # A unit RADIUS or more inside the hole has no kept unit in its 7 x 7 window.
    deep = rebuilt[:, top + RADIUS : bottom - RADIUS, left + RADIUS : right - RADIUS]
    for channel in range(3):
        mean = torch.full_like(deep[channel], float(means[channel]))
        torch.testing.assert_close(deep[channel], mean, atol=1e-6, rtol=0)
    # Nearer the edge the window reaches kept pixels: the estimate follows the picture there.
    edge = rebuilt[:, top, left + RADIUS : right - RADIUS]
    assert not torch.allclose(edge, means.float()[:, None].expand_as(edge), atol=1e-3)


def test_the_fallbacks_come_in_the_documented_order() -> None:
    half = WIDTH // 2
    kept = torch.zeros(3, HEIGHT, WIDTH, dtype=torch.bool)
    kept[0, :, :half] = True  # red kept on the left half only; green and blue dropped
    rebuilt = reconstruct(PICTURE, kept)
    red_mean = float(PICTURE[0, :, :half].double().mean())
    far = slice(half + RADIUS, None)  # no kept unit of any channel within the window
    # Red on the right: no kept channel at the pixel -> (2) the mean of red's kept units.
    torch.testing.assert_close(
        rebuilt[0, :, far], torch.full_like(rebuilt[0, :, far], red_mean), atol=1e-6, rtol=0
    )
    # Green on the left: its window is empty, red is kept there -> (1) that pixel's red.
    torch.testing.assert_close(rebuilt[1, :, :half], PICTURE[0, :, :half], atol=0, rtol=0)
    # Green on the right: no kept channel there, no kept green -> (3) the mean of all kept.
    torch.testing.assert_close(
        rebuilt[1, :, half:], torch.full_like(rebuilt[1, :, half:], red_mean), atol=1e-6, rtol=0
    )
    # Nothing kept at all -> (4) 0.5.
    assert bool((reconstruct(PICTURE, torch.zeros(1, HEIGHT, WIDTH)) == 0.5).all())


def test_reconstruct_refuses_shapes_it_cannot_broadcast() -> None:
    with pytest.raises(ValueError, match="picture"):
        reconstruct(PICTURE[0], torch.ones(HEIGHT, WIDTH))
    for shape in [(2, HEIGHT, WIDTH), (1, HEIGHT, WIDTH + 1), (1, 1, HEIGHT, WIDTH)]:
        with pytest.raises(ValueError, match="kept"):
            reconstruct(PICTURE, torch.ones(shape))


# ---------------------------------------------------------------- psnr


def test_psnr() -> None:
    assert psnr(PICTURE, PICTURE.clone()) == math.inf
    zeros = torch.zeros(3, 8, 8)
    assert psnr(zeros, torch.full((3, 8, 8), 0.1)) == pytest.approx(20.0, abs=1e-6)  # MSE 0.01
    assert psnr(zeros, torch.full((3, 8, 8), 1.0)) == pytest.approx(0.0, abs=1e-12)  # MSE 1
    with pytest.raises(ValueError, match="shapes"):
        psnr(zeros, zeros[:1])


# ---------------------------------------------------------------- the study


def test_the_study_has_one_curve_and_one_example_per_method() -> None:
    picture = sample("cat")
    study = study_of("cat")
    assert tuple(c.method for c in study.curves) == METHODS
    assert tuple(e.method for e in study.examples) == METHODS
    assert len(FRACTIONS) == 10 and FRACTIONS[0] == 0.05 and FRACTIONS[-1] == 0.5
    assert EXAMPLE_FRACTION in FRACTIONS
    for c in study.curves:
        assert c.fractions == FRACTIONS
        assert len(c.realized) == len(c.psnr) == len(c.setting) == len(FRACTIONS)
        assert all(math.isfinite(value) and value > 0 for value in c.psnr)
    for example in study.examples:
        assert example.fraction == EXAMPLE_FRACTION
        assert example.kept.shape == example.reconstruction.shape == picture.shape
        assert example.kept.dtype == example.reconstruction.dtype == torch.float32
        assert bool(((example.kept == 0) | (example.kept == 1)).all())
        assert bool((example.kept == 0).any()), "the example shows something dropped"
        if example.method != "spatial":  # a pixel mask, shared by the three channels
            assert bool((example.kept == example.kept[:1]).all())
        # The example is exactly reconstruct() of its mask (up to the batch's float rounding).
        torch.testing.assert_close(
            example.reconstruction, reconstruct(picture, example.kept), atol=1e-6, rtol=0
        )
        assert example.psnr == pytest.approx(psnr(picture, example.reconstruction))


def test_the_settings_are_said_in_words() -> None:
    height, width = sample("cat").shape[1:]
    study = study_of("cat")
    assert curve(study, "standard").setting == tuple(f"p = {f:.2f}" for f in FRACTIONS)
    assert curve(study, "spatial").setting == tuple(f"p = {f:.2f}" for f in FRACTIONS)
    sizes = reconstruction_fractions.cutout_sizes(height, width)
    assert curve(study, "cutout").setting == tuple(f"4 holes of {size} px" for size in sizes)
    probabilities = reconstruction_fractions.dropblock_probabilities(height, width)
    assert curve(study, "dropblock").setting == tuple(
        f"p = {p:.3f}, block 15" for p in probabilities
    )


@pytest.mark.parametrize(("height", "width"), [(300, 451), (512, 512), (341, 512), (37, 23)])
def test_cutout_size_makes_the_expected_fraction_closest_to_the_target(
    height: int, width: int
) -> None:
    def gap(side: int, fraction: float) -> float:
        return abs(expectations.cutout_dropped_fraction(side, 4, height, width) - fraction)

    sizes = reconstruction_fractions.cutout_sizes(height, width)
    for fraction, size in zip(FRACTIONS, sizes, strict=True):
        # The expected fraction grows with the side (each hole only grows), so the closest
        # side is closer than both of its neighbours.
        assert 1 <= size <= max(height, width)
        assert gap(size, fraction) <= gap(size + 1, fraction)
        assert size == 1 or gap(size, fraction) <= gap(size - 1, fraction)


@pytest.mark.parametrize(
    ("height", "width", "block"),
    [(300, 451, 15), (512, 512, 15), (341, 512, 15), (600, 800, 25), (100, 90, 3), (37, 23, 3)],
)
def test_dropblock_p_gives_exactly_the_expected_fraction(
    height: int, width: int, block: int
) -> None:
    # Block: the odd number nearest max(H, W) / 32 (451 / 32 = 14.1 -> 15; 800 / 32 = 25;
    # 512 / 32 = 16 is a tie, the smaller one), at least 3.
    assert reconstruction_fractions.dropblock_block(height, width) == block
    probabilities = reconstruction_fractions.dropblock_probabilities(height, width)
    for fraction, p in zip(FRACTIONS, probabilities, strict=True):
        expected = expectations.dropblock_dropped_fraction(p, block, height, width)
        assert expected == pytest.approx(fraction, abs=1e-9)
        assert p >= fraction  # blocks overlap: a little more than f must be asked for


def test_realized_fractions_are_close_to_the_targets() -> None:
    picture = sample("cat")
    height, width = picture.shape[1:]
    study, draws = study_of("cat"), 3
    units = height * width * draws
    for fraction, realized in zip(FRACTIONS, curve(study, "standard").realized, strict=True):
        assert_binomial_fraction(realized * units, units, fraction)
    assert curve(study, "spatial").realized == FRACTIONS  # exact: the expectation over patterns

    # Cutout and DropBlock drop a few large squares, so one draw's fraction varies far more
    # than a binomial one. Measure that spread: the sample standard deviation s of the dropped
    # fraction over 40 fresh draws with the same settings. The study's realized value is the
    # mean of 3 draws, whose mean is the expected fraction E of the setting used: it lies
    # within Z s / sqrt(3) of E, and E within |E - f| of the target (for Cutout the side is a
    # whole number, so E misses f by up to half a step of the side; DropBlock's p hits it).
    sizes = reconstruction_fractions.cutout_sizes(height, width)
    probabilities = reconstruction_fractions.dropblock_probabilities(height, width)
    block = reconstruction_fractions.dropblock_block(height, width)
    ones = torch.ones(40, 1, height, width)
    for i, fraction in enumerate(FRACTIONS):
        cutouts = tensor(F.cutout(ones, sizes[i], n_holes=4, generator=seeded(100 + i)))
        blocks = tensor(F.dropblock(ones, probabilities[i], block, generator=seeded(200 + i)))
        for method, masks, expected in [
            ("cutout", cutouts, expectations.cutout_dropped_fraction(sizes[i], 4, height, width)),
            ("dropblock", blocks, fraction),
        ]:
            spread = float((masks == 0).flatten(1).double().mean(1).std())
            realized = curve(study, method).realized[i]
            bound = abs(expected - fraction) + Z * spread / math.sqrt(draws)
            assert abs(realized - fraction) <= bound, (method, fraction, realized, bound)


@pytest.mark.parametrize("sample_id", SAMPLE_IDS)
def test_pixel_dropout_loses_the_least_information_on_every_sample(sample_id: str) -> None:
    """THE point of the feature: at every fraction, single dropped pixels are reconstructed
    far better (>= 3 dB) than Cutout holes, DropBlock blocks or dropped colour channels."""
    study = study_of(sample_id)
    standard = curve(study, "standard").psnr
    margins = {
        (c.method, fraction): s - other
        for c in study.curves
        if c.method != "standard"
        for fraction, s, other in zip(FRACTIONS, standard, c.psnr, strict=True)
    }
    (method, fraction), smallest = min(margins.items(), key=lambda item: item[1])
    assert smallest >= 3.0, f"{sample_id}: {method} at f = {fraction} only {smallest:.2f} dB below"


def test_spatial_curve_is_the_exact_expectation_over_the_eight_channel_patterns() -> None:
    picture = sample("cat")
    study = study_of("cat")
    errors: dict[int, float] = {}  # summed over the patterns that keep that many channels
    for pattern in range(8):
        kept = torch.tensor([(pattern >> c) & 1 for c in range(3)], dtype=torch.bool)
        rebuilt = reconstruct(picture, kept.view(3, 1, 1))
        errors[int(kept.sum())] = errors.get(int(kept.sum()), 0.0) + float(
            (rebuilt.double() - picture.double()).square().mean()
        )
    for fraction, value in zip(FRACTIONS, curve(study, "spatial").psnr, strict=True):
        mse = sum(
            (1 - fraction) ** kept * fraction ** (3 - kept) * error
            for kept, error in errors.items()
        )
        assert value == pytest.approx(-10 * math.log10(mse), abs=1e-4)


def test_the_study_does_not_depend_on_how_masks_are_batched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    picture = PICTURE
    batched = pixel_dropout_study(picture, seed=5, draws=2)
    monkeypatch.setattr(reconstruction, "CHUNK_FLOATS", 1)  # one mask at a time
    alone = pixel_dropout_study(picture, seed=5, draws=2)
    for a, b in zip(batched.curves, alone.curves, strict=True):
        assert a.realized == b.realized
        assert a.psnr == pytest.approx(b.psnr, abs=1e-4)
    for x, y in zip(batched.examples, alone.examples, strict=True):
        assert torch.equal(x.kept, y.kept)
        torch.testing.assert_close(x.reconstruction, y.reconstruction, atol=1e-6, rtol=0)


def test_the_study_is_deterministic_and_the_seed_matters() -> None:
    picture = torch.rand(3, 96, 128, generator=seeded(21))
    torch.manual_seed(3)  # the global generator must play no part
    first = pixel_dropout_study(picture, seed=7)
    torch.manual_seed(4)
    again = pixel_dropout_study(picture, seed=7)
    assert first.curves == again.curves
    for a, b in zip(first.examples, again.examples, strict=True):
        assert torch.equal(a.kept, b.kept) and torch.equal(a.reconstruction, b.reconstruction)
        assert a.psnr == b.psnr
    other = pixel_dropout_study(picture, seed=8)
    for a, b in zip(first.examples, other.examples, strict=True):
        if a.method == "spatial":
            # Only 7 channel masks drop something: two seeds may well draw the same one.
            assert bool((b.kept == 0).any())
            continue
        assert not torch.equal(a.kept, b.kept), a.method
    assert first.curves != other.curves


def test_the_study_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="draws"):
        pixel_dropout_study(PICTURE, draws=0)
    with pytest.raises(ValueError, match="seed"):
        pixel_dropout_study(PICTURE, seed=-1)
    with pytest.raises(ValueError, match="picture"):
        pixel_dropout_study(PICTURE[:1])
