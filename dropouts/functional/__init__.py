"""Functional dropouts on torch tensors, in the conventions of ``torch.nn.functional``.

``p`` is always the DROP probability. Every function takes keyword arguments
``training=True``, ``generator=None`` (the same generator state gives the same mask) and
``return_mask=False`` (``True`` returns ``(output, mask)``, the mask being the factor
actually applied, broadcastable to the input). Two stated exceptions: max-pooling dropout
returns the mask on the input of the pooling, and alpha dropout, an affine map rather than a
product, returns its keep indicator (1 kept, 0 set to the saturation value).
"""

from .elementwise import (
    alpha_dropout,
    alpha_dropout_affine,
    dropout,
    gaussian_dropout,
    gaussian_std,
)
from .linear import (
    dropconnect_linear,
    dropconnect_moments,
    standout_keep_probability,
    standout_linear,
)
from .maxdrop import draw_stochastic_p, max_drop, max_drop_scale, stochastic_dropout
from .pooling import maxpool_dropout, probabilistic_weighted_pooling, weighted_pooling_weights
from .structured import (
    cutout,
    depth_variance,
    drop_path,
    dropblock,
    dropblock_gamma,
    expected_depth,
    spatial_dropout,
    stochastic_depth_survival,
)

__all__ = [
    "alpha_dropout",
    "alpha_dropout_affine",
    "cutout",
    "depth_variance",
    "draw_stochastic_p",
    "drop_path",
    "dropblock",
    "dropblock_gamma",
    "dropconnect_linear",
    "dropconnect_moments",
    "dropout",
    "expected_depth",
    "gaussian_dropout",
    "gaussian_std",
    "max_drop",
    "max_drop_scale",
    "maxpool_dropout",
    "probabilistic_weighted_pooling",
    "spatial_dropout",
    "standout_keep_probability",
    "standout_linear",
    "stochastic_depth_survival",
    "stochastic_dropout",
    "weighted_pooling_weights",
]
