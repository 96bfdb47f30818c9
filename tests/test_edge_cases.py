"""Edge cases every functional must get right: half precision, p = 0 and 1, eval, unbatched
inputs, and the same seed giving the same mask for the dense-layer methods."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from stats import assert_binomial_fraction, seeded

import dropouts
from dropouts import functional as F

# ---------------------------------------------------------------- half precision

HALF = [torch.bfloat16, torch.float16]


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("p", [0.001, 0.01, 0.5, 0.999])
def test_half_precision_masks_drop_a_binomial_fraction(dtype: torch.dtype, p: float) -> None:
    """bfloat16 rounds keep = 0.999 to 1: the draws must not happen in the input's dtype."""
    x = torch.ones(1_000_000, dtype=dtype)
    y, mask = F.dropout(x, p, generator=seeded(1), return_mask=True)  # type: ignore[misc]
    assert y.dtype == dtype and mask.dtype == dtype
    assert_binomial_fraction(int((mask == 0).sum()), x.numel(), p)


@pytest.mark.parametrize("dtype", HALF)
def test_half_precision_keeps_the_dtype_and_the_rate_of_every_masked_method(
    dtype: torch.dtype,
) -> None:
    p, n = 0.01, 400_000
    images = torch.ones(1, 4, 100, 1000, dtype=dtype)
    outputs: dict[str, torch.Tensor] = {
        "alpha": F.alpha_dropout(torch.ones(n, dtype=dtype), p, generator=seeded(2)),  # type: ignore[dict-item]
        "stochastic": F.stochastic_dropout(  # type: ignore[dict-item]
            torch.ones(n, dtype=dtype), mu=0.0, sigma=0.0, p_t=p, generator=seeded(3)
        ),
        "maxpool": F.maxpool_dropout(images, p, kernel_size=1, generator=seeded(4)),  # type: ignore[dict-item]
        "dropblock": F.dropblock(images, p, 1, generator=seeded(5)),  # type: ignore[dict-item]
    }
    for name, out in outputs.items():
        assert out.dtype == dtype, name
        dropped_value = out.min() if name == "alpha" else 0.0  # alpha: the saturation value
        dropped = int((out == dropped_value).sum())
        assert_binomial_fraction(dropped, out.numel(), p)
    weight = torch.randn(3, 8, generator=seeded(6)).to(dtype)
    x = torch.randn(5, 8, generator=seeded(7)).to(dtype)
    assert F.dropconnect_linear(x, weight, p=0.3, generator=seeded(8)).dtype == dtype  # type: ignore[union-attr]
    assert F.standout_linear(x, weight, generator=seeded(9)).dtype == dtype  # type: ignore[union-attr]


# ---------------------------------------------------------------- p = 0, p = 1, eval, unbatched


def test_spatial_dropout_p_zero_p_one_and_original_eval() -> None:
    x = torch.randn(2, 3, 5, 5, generator=seeded(10)) + 2.0
    assert torch.equal(F.spatial_dropout(x, 0.0, generator=seeded(11)), x)
    zeros = F.spatial_dropout(x, 1.0, generator=seeded(12))
    assert torch.equal(zeros, torch.zeros_like(x)) and not zeros.isnan().any()  # type: ignore[union-attr]
    torch.testing.assert_close(F.spatial_dropout(x, 0.4, scale=False, training=False), 0.6 * x)


def test_drop_path_edge_cases() -> None:
    x = torch.randn(8, 3, 4, generator=seeded(13))
    assert torch.equal(F.drop_path(x, 0.5, training=False), x)
    assert torch.equal(F.drop_path(x, 0.0, generator=seeded(14)), x)
    zeros = F.drop_path(x, 1.0, generator=seeded(15))
    assert torch.equal(zeros, torch.zeros_like(x)) and not zeros.isnan().any()  # type: ignore[union-attr]
    # The first axis is the batch: a (B,) tensor holds one value per sample.
    y, mask = F.drop_path(torch.ones(6), 0.5, generator=seeded(16), return_mask=True)  # type: ignore[misc]
    assert mask.shape == (6,)
    # Original form: unscaled while training, x (1 - p) in eval.
    y = F.drop_path(x, 0.25, scale=False, generator=seeded(17))
    per_sample = y.flatten(1)  # type: ignore[union-attr]
    kept = per_sample.abs().sum(1) > 0
    torch.testing.assert_close(per_sample[kept], x.flatten(1)[kept])
    torch.testing.assert_close(F.drop_path(x, 0.25, scale=False, training=False), 0.75 * x)


@pytest.mark.parametrize("mode", ["feature", "channel"])
def test_max_drop_unbatched_equals_a_batch_of_one(mode: str) -> None:
    x = torch.rand(4, 6, 7, generator=seeded(18))
    one = F.max_drop(x, 0.6, mode=mode, generator=seeded(19))  # type: ignore[arg-type]
    batch = F.max_drop(x[None], 0.6, mode=mode, generator=seeded(19))  # type: ignore[arg-type]
    assert torch.equal(one, batch[0])  # type: ignore[index]


@pytest.mark.parametrize("mode", ["feature", "channel"])
def test_max_drop_at_p_one_drops_every_maximum_without_nan(mode: str) -> None:
    x = torch.rand(2, 3, 5, 5, generator=seeded(20)) + 0.1
    y, mask = F.max_drop(x, 1.0, mode=mode, generator=seeded(21), return_mask=True)  # type: ignore[arg-type,misc]
    assert not y.isnan().any() and not mask.isnan().any()
    dim = (-2, -1) if mode == "feature" else 1
    dropped = (mask == 0).sum(dim=dim)
    assert bool((dropped == 1).all())  # exactly the maximum of each map / position goes
    maxima = x.amax(dim=dim, keepdim=True)
    assert torch.equal(mask == 0, x == maxima)


def test_maxpool_dropout_unbatched_training_equals_a_batch_of_one() -> None:
    x = torch.rand(3, 8, 8, generator=seeded(22))
    one, mask = F.maxpool_dropout(x, 0.4, generator=seeded(23), return_mask=True)  # type: ignore[misc]
    batch = F.maxpool_dropout(x[None], 0.4, generator=seeded(23))
    assert one.shape == (3, 4, 4) and mask.shape == x.shape
    assert torch.equal(one, batch[0])  # type: ignore[index]


def test_stochastic_dropout_with_a_zero_draw_is_the_identity() -> None:
    x = torch.randn(1000, generator=seeded(24))
    y, mask = F.stochastic_dropout(x, mu=0.1, sigma=0.0, p_t=0.0, return_mask=True)  # type: ignore[misc]
    assert torch.equal(y, x) and bool((mask == 1).all())
    # A negative draw with mu != 0 means no dropout that iteration (Park & Kwak's code).
    generator = seeded(25)
    draws = [F.draw_stochastic_p(0.05, 1.0, generator=generator) for _ in range(200)]
    assert 0.0 in draws


def test_gaussian_dropout_checks_p_also_when_sigma_is_given() -> None:
    x = torch.ones(10)
    with pytest.raises(ValueError, match="p must be in"):
        F.gaussian_dropout(x, 7.0, sigma=0.3)
    # p = 1 has no matching sigma, but with sigma given p is not used.
    assert dropouts.GaussianDropout(1.0, sigma=0.3).sigma == 0.3
    with pytest.raises(ValueError, match="p must be in"):
        dropouts.GaussianDropout(1.0)


def test_dropconnect_eval_mask_is_the_factor_the_mean_rule_applies() -> None:
    x = torch.randn(4, 6, generator=seeded(26))
    weight = torch.randn(3, 6, generator=seeded(27))
    bias = torch.randn(3, generator=seeded(28))
    plain = torch.nn.functional.linear(x, weight, bias)
    for scale, factor in ((True, 1.0), (False, 0.6)):
        y, mask = F.dropconnect_linear(  # type: ignore[misc]
            x, weight, bias, 0.4, scale=scale, training=False, return_mask=True
        )
        torch.testing.assert_close(y, factor * plain)
        assert bool((mask == factor).all())


# ---------------------------------------------------------------- reproducibility

Layer = Callable[[torch.Generator], torch.Tensor]


def _dense_layers() -> dict[str, Layer]:
    x = torch.randn(5, 8, generator=seeded(29))
    weight = torch.randn(4, 8, generator=seeded(30))
    bias = torch.randn(4, generator=seeded(31))

    def dropconnect(g: torch.Generator) -> torch.Tensor:
        return F.dropconnect_linear(x, weight, bias, 0.5, generator=g)  # type: ignore[return-value]

    def standout(g: torch.Generator) -> torch.Tensor:
        return F.standout_linear(x, weight, bias, alpha=1.0, beta=0.0, generator=g)  # type: ignore[return-value]

    def dropconnect_module(g: torch.Generator) -> torch.Tensor:
        torch.manual_seed(0)  # the same initial weights
        return dropouts.DropConnectLinear(8, 4, p=0.5, generator=g)(x)

    def standout_module(g: torch.Generator) -> torch.Tensor:
        torch.manual_seed(0)
        return dropouts.StandoutLinear(8, 4, alpha=1.0, beta=0.0, generator=g)(x)

    return {
        "dropconnect": dropconnect,
        "standout": standout,
        "dropconnect_module": dropconnect_module,
        "standout_module": standout_module,
    }


@pytest.mark.parametrize("name", list(_dense_layers()))
def test_dense_methods_same_seed_same_mask_other_seed_other_mask(name: str) -> None:
    layer = _dense_layers()[name]
    first, again, other = layer(seeded(32)), layer(seeded(32)), layer(seeded(33))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
