"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    # The CI machine has two cores; more threads only add noise.
    torch.set_num_threads(2)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a fresh upload directory, one per test module (a module may define its own)."""
    app = create_app(Settings(upload_dir=tmp_path_factory.mktemp("uploads")))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
