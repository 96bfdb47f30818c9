"""Spatial dropout, Cutout, DropBlock and DropPath against methods.md §6, §7, §14, §17."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF
from stats import assert_binomial_fraction, assert_mean, assert_variance, seeded

from dropouts import functional as F
from dropouts.lab.expectations import cutout_dropped_fraction

# ---------------------------------------------------------------- spatial dropout


def test_spatial_dropout_drops_whole_channels_scaled_by_keep() -> None:
    x = torch.rand(64, 32, 8, 8, generator=seeded(0)) + 0.1
    y, mask = F.spatial_dropout(x, 0.3, generator=seeded(1), return_mask=True)
    assert mask.shape == (64, 32, 1, 1)
    dropped = (y == 0).flatten(2).all(dim=2)
    kept = ~dropped
    torch.testing.assert_close(y[kept], x[kept] / 0.7)
    assert_binomial_fraction(int(dropped.sum()), dropped.numel(), 0.3)
    # Masks differ between samples.
    assert not torch.equal(mask[0], mask[1])


def test_spatial_dropout_treats_a_3d_input_as_one_image() -> None:
    cat = torch.rand(3, 16, 16, generator=seeded(2)) + 0.1
    hits = 0
    generator = seeded(3)
    for _ in range(2000):
        y, mask = F.spatial_dropout(cat, 0.5, generator=generator, return_mask=True)
        assert mask.shape == (3, 1, 1)
        per_channel = (y == 0).flatten(1)
        assert bool((per_channel.all(1) | (~per_channel).all(1)).all())
        hits += int((mask == 0).sum())
    assert_binomial_fraction(hits, 3 * 2000, 0.5)


def test_spatial_dropout_is_unbiased_and_identity_in_eval() -> None:
    x = torch.tensor([1.5, -2.0]).view(1, 2, 1, 1).expand(100_000, 2, 1, 1)
    samples = F.spatial_dropout(x, 0.4, generator=seeded(4))
    assert_mean(samples.view(-1, 2), torch.tensor([1.5, -2.0]))
    assert torch.equal(F.spatial_dropout(x, 0.4, training=False), x)
    original = F.spatial_dropout(x, 0.4, scale=False, training=False)
    torch.testing.assert_close(original, 0.6 * x)
    with pytest.raises(ValueError, match="C, H, W"):
        F.spatial_dropout(torch.ones(4, 4), 0.5)


# ---------------------------------------------------------------- cutout


def _clipped_length(centre: int, size: int, side: int) -> int:
    start = centre - size // 2
    return min(start + size, side) - max(start, 0)


def expected_cutout_area(size: int, height: int, width: int) -> float:
    """E[area] of one hole with a uniform centre: E[len_y] * E[len_x] (independent axes)."""
    mean_y = sum(_clipped_length(c, size, height) for c in range(height)) / height
    mean_x = sum(_clipped_length(c, size, width) for c in range(width)) / width
    return mean_y * mean_x


@pytest.mark.parametrize(("size", "area"), [(8, 56.25), (16, 196.0), (20, 284.765625)])
def test_expected_cutout_area_on_cifar_matches_methods_md(size: int, area: float) -> None:
    assert expected_cutout_area(size, 32, 32) == pytest.approx(area)


@pytest.mark.parametrize("size", [15, 16])
def test_interior_hole_has_exact_area_size_squared(size: int) -> None:
    # A 100 x 100 image with the hole forced inside: retry until the centre is interior.
    x = torch.ones(3, 100, 100)
    generator = seeded(5)
    seen = 0
    while seen < 20:
        y, mask = F.cutout(x, size, generator=generator, return_mask=True)
        rows = (mask[0] == 0).any(1).nonzero()
        cols = (mask[0] == 0).any(0).nonzero()
        top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
        if top == 0 or left == 0 or bottom == 99 or right == 99:
            continue
        seen += 1
        assert int((mask == 0).sum()) == size * size
        # One axis-aligned rectangle, the same on all channels, nothing rescaled.
        assert bool((mask[0, top : bottom + 1, left : right + 1] == 0).all())
        assert bool((y == 0).all(0).eq(mask[0] == 0).all())
        assert bool((y[:, mask[0] == 1] == 1).all())


def test_cutout_mean_area_with_uniform_centre_and_border_clipping() -> None:
    size, side, draws = 16, 32, 20_000
    x = torch.ones(draws, 1, side, side)
    _, mask = F.cutout(x, size, generator=seeded(6), return_mask=True)
    areas = (mask == 0).flatten(1).sum(1).double()
    assert_mean(areas, expected_cutout_area(size, side, side))
    assert int(areas.min()) < size * size  # some holes are cut by the border


def test_cutout_holes_are_independent_per_image_and_eval_is_identity() -> None:
    x = torch.ones(8, 3, 32, 32)
    _, mask = F.cutout(x, 8, n_holes=3, generator=seeded(7), return_mask=True)
    assert mask.shape == (8, 1, 32, 32)
    assert len({tuple(m.flatten().tolist()) for m in mask}) == 8
    assert torch.equal(F.cutout(x, 8, training=False), x)
    assert torch.equal(F.cutout(x, 8, n_holes=0), x)
    huge = F.cutout(x, 100, generator=seeded(8))
    assert torch.equal(huge, torch.zeros_like(x))


@pytest.mark.parametrize("holes", [1, 4])
def test_cutout_area_with_several_holes_follows_the_union_of_independent_holes(holes: int) -> None:
    """Independent centres: a pixel survives n holes with probability (1 - q)^n."""
    x = torch.ones(4000, 1, 32, 32)
    dropped = (F.cutout(x, 8, n_holes=holes, generator=seeded(9)) == 0).double()
    per_image = dropped.mean(dim=(1, 2, 3))
    assert_mean(per_image, cutout_dropped_fraction(8, holes, 32, 32))


# ---------------------------------------------------------------- dropblock


def _fully_dropped_squares(dropped: torch.Tensor, block: int) -> torch.Tensor:
    """Union of the block x block squares that lie inside the map and are fully dropped."""
    maps = dropped.double().reshape(-1, 1, *dropped.shape[-2:])
    anchors = TF.avg_pool2d(maps, block, stride=1) == 1  # valid squares only (no padding)
    grown = TF.max_pool2d(TF.pad(anchors.double(), (block - 1,) * 4), block, stride=1)
    return grown.bool().reshape(dropped.shape)


def expected_dropblock_fraction(p: float, block: int, height: int, width: int) -> float:
    """mean over pixels of 1 - (1 - gamma)^n(pixel), n = number of valid seeds covering it."""
    gamma = F.dropblock_gamma(p, block, height, width)
    rows = torch.tensor([min(r, height - block) - max(r - block + 1, 0) + 1 for r in range(height)])
    cols = torch.tensor([min(c, width - block) - max(c - block + 1, 0) + 1 for c in range(width)])
    covering = rows[:, None] * cols[None, :]
    return float((1 - (1 - gamma) ** covering.double()).mean())


def test_dropblock_gamma_is_p_for_block_size_one_and_follows_the_paper() -> None:
    assert F.dropblock_gamma(0.2, 1, 14, 14) == pytest.approx(0.2)
    # Ghiasi et al. eq. (1) for square maps: (1 - keep) / bs^2 * feat^2 / (feat - bs + 1)^2.
    assert F.dropblock_gamma(0.1, 7, 28, 28) == pytest.approx(0.1 / 49 * 28**2 / 22**2)


@pytest.mark.parametrize(
    ("side", "block", "p", "reference"),
    [(28, 7, 0.1, 0.0939), (14, 7, 0.1, 0.0929), (14, 3, 0.2, 0.181)],
)
def test_dropblock_dropped_fraction(side: int, block: int, p: float, reference: float) -> None:
    expected = expected_dropblock_fraction(p, block, side, side)
    assert expected == pytest.approx(reference, abs=5e-4)  # the table of methods.md
    assert expected <= p
    x = torch.ones(4000, 1, side, side)
    _, mask = F.dropblock(x, p, block, generator=seeded(10), return_mask=True)
    per_map = (mask == 0).flatten(1).double().mean(1)
    assert_mean(per_map, expected)


@pytest.mark.parametrize("block", [3, 4, 7])
def test_every_dropped_pixel_lies_in_a_full_block_inside_the_map(block: int) -> None:
    x = torch.ones(16, 4, 20, 24)
    _, mask = F.dropblock(x, 0.3, block, generator=seeded(11), return_mask=True)
    dropped = mask == 0
    assert bool(dropped.any())
    assert torch.equal(_fully_dropped_squares(dropped, block), dropped)


def test_dropblock_normalises_by_the_realised_count_over_the_whole_tensor() -> None:
    x = torch.full((8, 16, 12, 12), 2.5)
    y, mask = F.dropblock(x, 0.25, 3, generator=seeded(12), return_mask=True)
    kept = mask != 0
    factor = mask.numel() / int(kept.sum())
    torch.testing.assert_close(mask[kept], torch.full_like(mask[kept], factor))
    assert float(y.double().mean()) == pytest.approx(2.5, rel=1e-6)


def test_dropblock_masks_are_independent_per_map() -> None:
    _, mask = F.dropblock(torch.ones(2, 3, 20, 20), 0.3, 3, generator=seeded(13), return_mask=True)
    maps = mask.flatten(2).flatten(0, 1)
    assert len({tuple((m == 0).tolist()) for m in maps}) == 6


def test_dropblock_edge_cases() -> None:
    x = torch.rand(3, 10, 10, generator=seeded(14))
    assert torch.equal(F.dropblock(x, 0.5, 3, training=False), x)
    assert torch.equal(F.dropblock(x, 0.0, 3), x)
    everything = F.dropblock(x, 1.0, 3, generator=seeded(15))
    assert not everything.isnan().any()
    y, mask = F.dropblock(x, 0.5, 50, generator=seeded(16), return_mask=True)  # clipped to 10
    assert mask.shape == x.shape and not y.isnan().any()
    per_map = (mask == 0).flatten(1).all(1) | (mask != 0).flatten(1).all(1)
    assert bool(per_map.all())  # a 10 x 10 block covers a whole map or nothing


def test_dropblock_of_size_one_is_bernoulli_dropout() -> None:
    x = torch.ones(200_000)
    _, mask = F.dropblock(x.view(1, 400, 500), 0.3, 1, generator=seeded(17), return_mask=True)
    assert_binomial_fraction(int((mask == 0).sum()), x.numel(), 0.3)


# ---------------------------------------------------------------- drop path


def test_drop_path_drops_whole_samples() -> None:
    branch = torch.rand(20_000, 4, 3, generator=seeded(18)) + 0.1
    y, mask = F.drop_path(branch, 0.2, generator=seeded(19), return_mask=True)
    assert mask.shape == (20_000, 1, 1)
    dropped = (y == 0).flatten(1).all(1)
    torch.testing.assert_close(y[~dropped], branch[~dropped] / 0.8)
    assert_binomial_fraction(int(dropped.sum()), 20_000, 0.2)
    assert_mean(y[:, 0, 0], branch[:, 0, 0].mean())  # E[out] = f(x) up to sampling


def test_drop_path_batch_mode_uses_one_gate() -> None:
    y, mask = F.drop_path(
        torch.ones(16, 8), 0.5, mode="batch", generator=seeded(20), return_mask=True
    )
    assert mask.shape == (1, 1)
    assert bool((y == y[0, 0]).all())
    with pytest.raises(ValueError):
        F.drop_path(torch.ones(2, 2), 0.5, mode="element")  # type: ignore[arg-type]


# ---------------------------------------------------------------- stochastic depth over a stack


def test_linear_decay_follows_huang_et_al() -> None:
    """s_l = 1 - (l / L)(1 - s_L): the first block keeps (1 - p / L), the last 1 - p."""
    assert F.stochastic_depth_survival(4, 0.5) == pytest.approx((0.875, 0.75, 0.625, 0.5))
    assert F.stochastic_depth_survival(4, 0.5, rule="constant") == (0.5, 0.5, 0.5, 0.5)
    assert F.stochastic_depth_survival(1, 0.3) == pytest.approx((0.7,))
    assert F.stochastic_depth_survival(5, 0.0) == (1.0,) * 5
    with pytest.raises(ValueError):
        F.stochastic_depth_survival(4, 0.5, rule="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        F.stochastic_depth_survival(0, 0.5)
    with pytest.raises(ValueError):
        F.stochastic_depth_survival(4, 1.5)


@pytest.mark.parametrize("blocks", [1, 8, 16, 54])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_expected_depth_is_the_sum_of_survivals(blocks: int, p: float) -> None:
    linear = F.stochastic_depth_survival(blocks, p)
    assert F.expected_depth(linear) == pytest.approx(blocks - p * (blocks + 1) / 2)
    constant = F.stochastic_depth_survival(blocks, p, rule="constant")
    assert F.expected_depth(constant) == pytest.approx(blocks * (1 - p))
    assert F.depth_variance(constant) == pytest.approx(blocks * p * (1 - p))


def test_huangs_110_layer_resnet_has_an_expected_depth_of_40_blocks() -> None:
    """54 residual blocks, s_L = 0.5: "the expected network depth ... reduces from 54 to 40"."""
    assert F.expected_depth(F.stochastic_depth_survival(54, 0.5)) == pytest.approx(40.25)


def test_drop_path_on_every_block_gives_the_expected_depth_and_its_variance() -> None:
    survival = F.stochastic_depth_survival(12, 0.6)
    generator = seeded(21)
    samples = 20_000
    kept = torch.stack(
        [
            F.drop_path(torch.ones(samples, 1), 1 - s, generator=generator, return_mask=True)[1][
                :, 0
            ]
            != 0
            for s in survival
        ],
        dim=1,
    )
    for block, s in enumerate(survival):
        assert_binomial_fraction(int(kept[:, block].sum()), samples, s)
    depth = kept.sum(dim=1).double()
    assert_mean(depth, F.expected_depth(survival))
    assert_variance(depth, F.depth_variance(survival))
