"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    # The CI machine has two cores; more threads only add noise.
    torch.set_num_threads(2)
