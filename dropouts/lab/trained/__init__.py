"""Training as a capability of a view (:mod:`dropouts.lab.trained.base`), and each trained
view's declaration: the dense view's networks (:mod:`~dropouts.lab.trained.dense`), Monte Carlo
dropout's model (:mod:`~dropouts.lab.trained.uncertainty`), the compression run
(:mod:`~dropouts.lab.trained.compression`) and the LSTM memory task
(:mod:`~dropouts.lab.trained.memory`). Nothing here knows about HTTP.
"""

from __future__ import annotations

from dropouts.lab.trained.base import (
    DECIMALS,
    Event,
    Post,
    Stopped,
    Stream,
    Training,
    Work,
    follow,
    needs_training,
)

__all__ = [
    "DECIMALS",
    "Event",
    "Post",
    "Stopped",
    "Stream",
    "Training",
    "Work",
    "follow",
    "needs_training",
]
