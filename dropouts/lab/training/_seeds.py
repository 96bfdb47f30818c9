"""The run's random streams: every draw (the data, the weights, the masks, the test-time samples)
comes from a generator seeded from the run's seed and what is drawn."""

from __future__ import annotations

import hashlib

import torch


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts`` (the run's seed and what is drawn): independent
    streams for the data, the weights, the masks and the test-time samples."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))
