"""What the export tests share: an export fetched through the API, a GIF's frames, and the
pixels of a frame near a colour."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image, ImageSequence
from training_streams import after_training


def export(client: TestClient, query: str) -> bytes:
    """The export's bytes (a trained view's network trained first, through its stream)."""
    response = after_training(client, f"/api/export?{query}")
    assert response.status_code == 200, response.text
    return response.content


def gif_frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]


def near(picture: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return np.abs(picture.astype(int) - np.asarray(colour)).sum(axis=-1) <= tolerance
