"""The compression view's data sets (:mod:`dropouts.lab.compression`).

A ReLU network ``inputs → width × depth → classes`` learns a small classification problem:

- ``digits``: the 8 × 8 handwritten digits (1797 images, 10 classes; the UCI optdigits test
  set as scikit-learn ships it, copied under ``dropouts/lab/data/`` with its licence), split once
  and for all into 1347 training and 450 test images (:data:`DATA_SEED`), each pixel
  standardised with the training set's mean and standard deviation;
- ``moons``, ``circles``, ``xor``, ``spiral``: the dense view's 2-D problems
  (:func:`dropouts.lab.training.make_dataset`), :data:`POINTS_TRAIN` and :data:`POINTS_TEST`
  points with noise :data:`POINTS_NOISE`.

The data do not depend on the seed: the seed decides the initial weights, the order of the
minibatches and the noise, so accuracies compare across seeds on the same test set.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from dropouts.lab.registry import ParamError
from dropouts.lab.training import make_dataset

DATASETS: tuple[str, ...] = ("digits", "moons", "circles", "xor", "spiral")

# the package data: dropouts/lab/data/, beside this package
DIGITS_FILE = Path(__file__).resolve().parent.parent / "data" / "digits.npz"
DIGITS_TEST = 450  # test images; the other 1347 train
DATA_SEED = 1998  # the split (and the 2-D points): the same for every seed of the page
PIXEL_STD_FLOOR = 0.1  # on the 0-1 scale: the always-blank border pixels stay at 0
POINTS_TRAIN = 2000
POINTS_TEST = 1000
POINTS_NOISE = 0.1


@functools.lru_cache(maxsize=1)
def load_digits() -> tuple[Tensor, Tensor]:
    """The 1797 digits as shipped: images ``(1797, 8, 8)`` uint8 in 0..16, labels ``(1797,)``
    int64 in 0..9 (the order of scikit-learn's ``load_digits``)."""
    with np.load(DIGITS_FILE, allow_pickle=False) as archive:
        images = torch.from_numpy(archive["images"].astype(np.uint8))
        labels = torch.from_numpy(archive["labels"].astype(np.int64))
    return images, labels


@dataclass(frozen=True)
class CompressionData:
    """Training and test sets: ``x`` float32 ``(n, features)``, ``y`` int64 ``(n,)``."""

    dataset: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    classes: int
    image_shape: tuple[int, int] | None  # digits: (8, 8), the inputs' layout

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


@functools.lru_cache(maxsize=len(DATASETS))
def compression_data(dataset: str) -> CompressionData:
    """The data set ``dataset`` (see the module's docstring), the same on every call."""
    if dataset not in DATASETS:
        raise ParamError("dataset", f"{dataset!r} is not a data set", ", ".join(DATASETS))
    if dataset == "digits":
        images, labels = load_digits()
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(DATA_SEED))
        test, train_ = order[:DIGITS_TEST], order[DIGITS_TEST:]
        pixels = images.reshape(len(labels), -1).to(torch.float32) / 16.0
        mean = pixels[train_].mean(dim=0)
        std = pixels[train_].std(dim=0).clamp(min=PIXEL_STD_FLOOR)
        x = (pixels - mean) / std
        return CompressionData(
            dataset, x[train_], labels[train_], x[test], labels[test], 10, (8, 8)
        )
    generator = torch.Generator().manual_seed(DATA_SEED)
    x_train, y_train = make_dataset(dataset, POINTS_TRAIN, POINTS_NOISE, generator)
    x_test, y_test = make_dataset(dataset, POINTS_TEST, POINTS_NOISE, generator)
    return CompressionData(dataset, x_train, y_train, x_test, y_test, 2, None)
