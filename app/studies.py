"""The reconstruction study of an image ("why pixel dropout fails"), as the page reads it.

The study (``dropouts.lab.views.reconstruction``) depends only on the image's content and the seed
and takes a few hundred milliseconds, so its answer is remembered, like a scene. The example
reconstructions are pictures, so they travel as JPEG (smooth images: a fraction of a PNG's
size, with no visible loss next to the reconstruction errors they show).
"""

from __future__ import annotations

import base64
import io
import math
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from PIL import Image
from torch import Tensor

from dropouts.lab.views.reconstruction import EXAMPLE_FRACTION, FRACTIONS, pixel_dropout_study

from .images import StoredImage

JPEG_QUALITY = 90


def finite(value: float) -> float | None:
    """JSON has no infinity: a perfect reconstruction (a flat picture) has no finite PSNR."""
    return value if math.isfinite(value) else None


def jpeg_data_url(picture: Tensor) -> str:
    """An RGB tensor ``(3, H, W)`` in [0, 1] as a ``data:image/jpeg;base64,…`` URL."""
    array = (picture.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def study_json(image: StoredImage, seed: int) -> dict[str, Any]:
    study = pixel_dropout_study(image.tensor, seed=seed)
    return {
        "image": image.id,
        "seed": seed,
        "fractions": list(FRACTIONS),
        "example_fraction": EXAMPLE_FRACTION,
        "curves": [
            {
                "method": curve.method,
                "fractions": list(curve.fractions),
                "realized": list(curve.realized),
                "psnr": [finite(value) for value in curve.psnr],
                "setting": list(curve.setting),
            }
            for curve in study.curves
        ],
        "examples": [
            {
                "method": example.method,
                "fraction": example.fraction,
                "psnr": finite(example.psnr),
                "dropped": float((example.kept == 0).float().mean()),
                "reconstruction": jpeg_data_url(example.reconstruction),
            }
            for example in study.examples
        ],
    }


class StudyCache:
    """A small thread-safe LRU of studies keyed by ``(image id, seed)``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._studies: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image: StoredImage, seed: int) -> dict[str, Any]:
        key = (image.id, seed)
        with self._lock:
            found = self._studies.get(key)
            if found is not None:
                self._studies.move_to_end(key)
                return found
        study = study_json(image, seed)
        with self._lock:
            self._studies[key] = study
            while len(self._studies) > self.size:
                self._studies.popitem(last=False)
        return study
