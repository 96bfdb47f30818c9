"""The nn.Module wrappers: training flag, generator, and agreement with the functionals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from stats import seeded
from torch import nn

import dropouts
from dropouts import functional as F

ModuleFactory = Callable[[torch.Generator], nn.Module]

IMAGE_MODULES: dict[str, tuple[ModuleFactory, Callable[..., object]]] = {
    "dropout": (
        lambda g: dropouts.Dropout(0.3, generator=g),
        lambda x, g: F.dropout(x, 0.3, generator=g),
    ),
    "gaussian": (
        lambda g: dropouts.GaussianDropout(0.3, generator=g),
        lambda x, g: F.gaussian_dropout(x, 0.3, generator=g),
    ),
    "alpha": (
        lambda g: dropouts.AlphaDropout(0.3, generator=g),
        lambda x, g: F.alpha_dropout(x, 0.3, generator=g),
    ),
    "spatial": (
        lambda g: dropouts.SpatialDropout(0.3, generator=g),
        lambda x, g: F.spatial_dropout(x, 0.3, generator=g),
    ),
    "cutout": (
        lambda g: dropouts.Cutout(4, n_holes=2, generator=g),
        lambda x, g: F.cutout(x, 4, n_holes=2, generator=g),
    ),
    "dropblock": (
        lambda g: dropouts.DropBlock(0.2, 3, generator=g),
        lambda x, g: F.dropblock(x, 0.2, 3, generator=g),
    ),
    "maxpool": (
        lambda g: dropouts.MaxPoolDropout(0.3, generator=g),
        lambda x, g: F.maxpool_dropout(x, 0.3, generator=g),
    ),
    "maxdrop": (
        lambda g: dropouts.MaxDrop(0.5, window=3, generator=g),
        lambda x, g: F.max_drop(x, 0.5, window=3, generator=g),
    ),
    "stochastic": (
        lambda g: dropouts.StochasticDropout(mu=0.3, sigma=0.1, generator=g),
        lambda x, g: F.stochastic_dropout(x, mu=0.3, sigma=0.1, generator=g),
    ),
    "droppath": (
        lambda g: dropouts.DropPath(0.5, generator=g),
        lambda x, g: F.drop_path(x, 0.5, generator=g),
    ),
}


@pytest.mark.parametrize("name", sorted(IMAGE_MODULES))
def test_module_matches_its_functional_and_respects_eval(name: str) -> None:
    make_module, functional = IMAGE_MODULES[name]
    x = torch.rand(4, 3, 16, 16, generator=seeded(0)) + 0.1
    module = make_module(seeded(1))
    assert isinstance(module, dropouts.DropoutModule)
    assert torch.equal(module(x), functional(x, seeded(1)))
    module.eval()
    first, second = module(x), module(x)
    assert torch.equal(first, second)
    expected_eval = F.maxpool_dropout(x, 0.3, training=False) if name == "maxpool" else x
    torch.testing.assert_close(first, expected_eval)
    assert repr(module)


@pytest.mark.parametrize("name", sorted(IMAGE_MODULES))
def test_same_generator_state_same_mask_and_consecutive_calls_differ(name: str) -> None:
    make_module, _ = IMAGE_MODULES[name]
    x = torch.rand(8, 3, 16, 16, generator=seeded(2)) + 0.1
    assert torch.equal(make_module(seeded(3))(x), make_module(seeded(3))(x))
    module = make_module(seeded(4))
    assert not torch.equal(module(x), module(x))


def test_dense_modules_hold_linear_parameters() -> None:
    torch.manual_seed(0)
    for module in (
        dropouts.DropConnectLinear(6, 4, p=0.5, generator=seeded(5)),
        dropouts.StandoutLinear(6, 4, alpha=1.0, beta=0.0, generator=seeded(5)),
    ):
        assert {name for name, _ in module.named_parameters()} == {"weight", "bias"}
        x = torch.randn(3, 6)
        train = module(x)
        module.eval()
        assert train.shape == module(x).shape == (3, 4)
        assert torch.equal(module(x), module(x))


def test_module_inside_a_network_is_switched_off_by_eval() -> None:
    net = nn.Sequential(
        nn.Linear(8, 8), dropouts.Dropout(0.5, generator=seeded(6)), nn.Linear(8, 2)
    )
    x = torch.randn(5, 8, generator=seeded(7))
    net.eval()
    torch.testing.assert_close(net(x), net[2](net[0](x)))
