"""``torch.nn.Module`` wrappers around :mod:`dropouts.functional`.

Each wrapper passes ``training=self.training`` (so ``model.eval()`` switches it off, the
mistake that ``F.dropout``'s ``training=True`` default invites) and its optional
``generator`` (a seeded ``torch.Generator`` makes its masks reproducible).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from .. import functional as F
from ..functional._common import MaskedResult, check_probability
from ..functional.linear import Activation
from ._base import DropoutModule

Generator = torch.Generator | None


def _output(result: MaskedResult) -> Tensor:
    return result if isinstance(result, Tensor) else result[0]


class Dropout(DropoutModule):
    """Standard dropout (Srivastava et al. 2014); see :func:`dropouts.functional.dropout`."""

    def __init__(self, p: float = 0.5, *, scale: bool = True, generator: Generator = None) -> None:
        super().__init__(generator=generator)
        self.p, self.scale = check_probability(p), scale

    def forward(self, x: Tensor) -> Tensor:
        result = F.dropout(
            x, self.p, scale=self.scale, training=self.training, generator=self.generator
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, scale={self.scale}"


class GaussianDropout(DropoutModule):
    """Multiplicative N(1, sigma^2) noise; see :func:`dropouts.functional.gaussian_dropout`."""

    def __init__(
        self, p: float = 0.5, *, sigma: float | None = None, generator: Generator = None
    ) -> None:
        super().__init__(generator=generator)
        self.p, self.sigma = check_probability(p, allow_one=sigma is not None), sigma

    def forward(self, x: Tensor) -> Tensor:
        result = F.gaussian_dropout(
            x, self.p, sigma=self.sigma, training=self.training, generator=self.generator
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, sigma={self.sigma}"


class AlphaDropout(DropoutModule):
    """Alpha dropout for SELU networks; see :func:`dropouts.functional.alpha_dropout`."""

    def __init__(self, p: float = 0.5, *, generator: Generator = None) -> None:
        super().__init__(generator=generator)
        self.p = check_probability(p)

    def forward(self, x: Tensor) -> Tensor:
        return _output(F.alpha_dropout(x, self.p, training=self.training, generator=self.generator))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class SpatialDropout(DropoutModule):
    """Whole-channel dropout; see :func:`dropouts.functional.spatial_dropout`."""

    def __init__(self, p: float = 0.5, *, scale: bool = True, generator: Generator = None) -> None:
        super().__init__(generator=generator)
        self.p, self.scale = check_probability(p), scale

    def forward(self, x: Tensor) -> Tensor:
        result = F.spatial_dropout(
            x, self.p, scale=self.scale, training=self.training, generator=self.generator
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, scale={self.scale}"


class Cutout(DropoutModule):
    """Square holes in the input; see :func:`dropouts.functional.cutout`."""

    def __init__(self, size: int, *, n_holes: int = 1, generator: Generator = None) -> None:
        super().__init__(generator=generator)
        self.size, self.n_holes = size, n_holes

    def forward(self, x: Tensor) -> Tensor:
        result = F.cutout(
            x, self.size, n_holes=self.n_holes, training=self.training, generator=self.generator
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"size={self.size}, n_holes={self.n_holes}"


class DropBlock(DropoutModule):
    """Contiguous-block dropout; see :func:`dropouts.functional.dropblock`."""

    def __init__(self, p: float = 0.1, block_size: int = 7, *, generator: Generator = None) -> None:
        super().__init__(generator=generator)
        self.p, self.block_size = check_probability(p), block_size

    def forward(self, x: Tensor) -> Tensor:
        result = F.dropblock(
            x, self.p, self.block_size, training=self.training, generator=self.generator
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, block_size={self.block_size}"


class MaxPoolDropout(DropoutModule):
    """Max-pooling dropout; see :func:`dropouts.functional.maxpool_dropout`."""

    def __init__(
        self,
        p: float = 0.5,
        kernel_size: int | tuple[int, int] = 2,
        stride: int | tuple[int, int] | None = None,
        *,
        generator: Generator = None,
    ) -> None:
        super().__init__(generator=generator)
        self.p, self.kernel_size, self.stride = check_probability(p), kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        result = F.maxpool_dropout(
            x,
            self.p,
            self.kernel_size,
            self.stride,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, kernel_size={self.kernel_size}, stride={self.stride}"


class MaxDrop(DropoutModule):
    """Drops the largest activations; see :func:`dropouts.functional.max_drop`."""

    def __init__(
        self,
        p: float = 0.1,
        *,
        mode: Literal["feature", "channel"] = "feature",
        window: int = 1,
        scale: bool = True,
        generator: Generator = None,
    ) -> None:
        super().__init__(generator=generator)
        self.p, self.mode, self.window, self.scale = check_probability(p), mode, window, scale

    def forward(self, x: Tensor) -> Tensor:
        result = F.max_drop(
            x,
            self.p,
            mode=self.mode,
            window=self.window,
            scale=self.scale,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}, window={self.window}"


class StochasticDropout(DropoutModule):
    """Dropout with a new ``p`` per call; see :func:`dropouts.functional.stochastic_dropout`."""

    def __init__(
        self,
        *,
        mu: float,
        sigma: float,
        max_p: float = 0.7,
        max_scale: float = 1.5,
        generator: Generator = None,
    ) -> None:
        super().__init__(generator=generator)
        self.mu, self.sigma, self.max_p, self.max_scale = mu, sigma, max_p, max_scale

    def forward(self, x: Tensor) -> Tensor:
        result = F.stochastic_dropout(
            x,
            mu=self.mu,
            sigma=self.sigma,
            max_p=self.max_p,
            max_scale=self.max_scale,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"mu={self.mu}, sigma={self.sigma} (standard deviation)"


class DropPath(DropoutModule):
    """Stochastic depth on a residual branch; see :func:`dropouts.functional.drop_path`."""

    def __init__(
        self,
        p: float = 0.1,
        *,
        mode: Literal["row", "batch"] = "row",
        scale: bool = True,
        generator: Generator = None,
    ) -> None:
        super().__init__(generator=generator)
        self.p, self.mode, self.scale = check_probability(p), mode, scale

    def forward(self, x: Tensor) -> Tensor:
        result = F.drop_path(
            x,
            self.p,
            mode=self.mode,
            scale=self.scale,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class _DenseDropout(DropoutModule):
    """A dense layer with ``nn.Linear``'s parameters and initialisation."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool,
        activation: Activation | None,
        generator: Generator,
    ) -> None:
        super().__init__(generator=generator)
        linear = nn.Linear(in_features, out_features, bias=bias)
        self.weight = linear.weight
        self.bias = linear.bias
        self.activation = activation


class DropConnectLinear(_DenseDropout):
    """A dense layer with DropConnect; see :func:`dropouts.functional.dropconnect_linear`."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        p: float = 0.5,
        scale: bool = True,
        activation: Activation | None = None,
        inference: Literal["mean", "gaussian"] = "mean",
        samples: int = 1000,
        generator: Generator = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, activation, generator)
        self.p, self.scale = check_probability(p), scale
        self.inference, self.samples = inference, samples

    def forward(self, x: Tensor) -> Tensor:
        result = F.dropconnect_linear(
            x,
            self.weight,
            self.bias,
            self.p,
            scale=self.scale,
            activation=self.activation,
            inference=self.inference,
            samples=self.samples,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)


class StandoutLinear(_DenseDropout):
    """A dense layer with Standout; see :func:`dropouts.functional.standout_linear`."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        alpha: float = 1.0,
        beta: float = 0.0,
        form: Literal["additive", "tied"] = "additive",
        activation: Activation | None = None,
        generator: Generator = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, activation, generator)
        self.alpha, self.beta, self.form = alpha, beta, form

    def forward(self, x: Tensor) -> Tensor:
        result = F.standout_linear(
            x,
            self.weight,
            self.bias,
            alpha=self.alpha,
            beta=self.beta,
            form=self.form,
            activation=self.activation,
            training=self.training,
            generator=self.generator,
        )
        return _output(result)


__all__ = [
    "AlphaDropout",
    "Cutout",
    "DropBlock",
    "DropConnectLinear",
    "DropPath",
    "Dropout",
    "DropoutModule",
    "GaussianDropout",
    "MaxDrop",
    "MaxPoolDropout",
    "SpatialDropout",
    "StandoutLinear",
    "StochasticDropout",
]
