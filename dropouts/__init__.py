"""Dropout Lab's library: every dropout method as a pure torch function and an ``nn.Module``.

>>> import torch, dropouts
>>> g = torch.Generator().manual_seed(0)
>>> y, mask = dropouts.dropout(torch.ones(4, 4), p=0.25, generator=g, return_mask=True)

``p`` is always the drop probability. See ``dropouts.functional`` (functions),
``dropouts.modules`` (modules), ``dropouts.rnn`` (LSTM variants), ``dropouts.mc`` (Monte Carlo
dropout) and ``dropouts.sparse`` (variational dropout for compression). The library imports
nothing of the lab built on it (``dropouts.lab``: the registry the web app shows, the views and
their trained demos).
"""

from . import mc, rnn, sparse
from .functional import (
    alpha_dropout,
    cutout,
    draw_stochastic_p,
    drop_path,
    dropblock,
    dropconnect_linear,
    dropout,
    gaussian_dropout,
    max_drop,
    maxpool_dropout,
    probabilistic_weighted_pooling,
    spatial_dropout,
    standout_linear,
    stochastic_dropout,
)
from .modules import (
    AlphaDropout,
    Cutout,
    DropBlock,
    DropConnectLinear,
    Dropout,
    DropoutModule,
    DropPath,
    GaussianDropout,
    MaxDrop,
    MaxPoolDropout,
    SpatialDropout,
    StandoutLinear,
    StochasticDropout,
)

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
    "alpha_dropout",
    "cutout",
    "draw_stochastic_p",
    "drop_path",
    "dropblock",
    "dropconnect_linear",
    "dropout",
    "gaussian_dropout",
    "max_drop",
    "maxpool_dropout",
    "mc",
    "probabilistic_weighted_pooling",
    "rnn",
    "sparse",
    "spatial_dropout",
    "standout_linear",
    "stochastic_dropout",
]
