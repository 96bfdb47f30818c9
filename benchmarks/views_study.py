"""Part e of :mod:`benchmarks.views`: the time of the reconstruction view's PSNR study."""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as nnf

from app.images import ImageStore

from .views_cases import verdict

STUDY_IMAGES = ("astronaut", "cat")
STUDY_REPEATS = 5
STUDY_BUDGET_S = 20.0  # per image, after the warm-up
TARGET_STUDY_S = 1.0


# ---------------------------------------------------------------- e. PSNR study


StudyRow = tuple[str, str, list[float] | None, list[float]]


def conv_pass_ms(picture: torch.Tensor, passes: int = 10) -> float:
    """Median ms of one depthwise 7 x 7 ``conv2d`` pass over ``picture`` (3, H, W)."""
    kernel = torch.rand(3, 1, 7, 7, generator=torch.Generator().manual_seed(0))
    batch = picture.unsqueeze(0)
    times = []
    for _ in range(passes):
        began = time.perf_counter()
        nnf.conv2d(batch, kernel, padding=3, groups=3)
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times)


def study_times(store: ImageStore) -> list[StudyRow]:
    """Per image: (image, size, study seconds per repeat or None if not built, conv2d ms
    measured right after each repeat). Past STUDY_BUDGET_S of repeats, no further repeat starts."""
    try:
        module = importlib.import_module("dropouts.lab.views.reconstruction")
        study: Callable[..., object] | None = module.pixel_dropout_study
    except (ImportError, AttributeError):
        study = None
    rows: list[StudyRow] = []
    for image_id in STUDY_IMAGES:
        picture = store.get(image_id).tensor
        size = f"{picture.shape[2]}x{picture.shape[1]}"
        conv_pass_ms(picture)  # warm-up
        if study is None:
            rows.append((image_id, size, None, [conv_pass_ms(picture)]))
            continue
        study(picture, seed=0)  # warm-up (lazy caches, first-call allocations)
        seconds: list[float] = []
        conv: list[float] = []
        began_row = time.perf_counter()
        while not seconds or (
            len(seconds) < STUDY_REPEATS and time.perf_counter() - began_row < STUDY_BUDGET_S
        ):
            began = time.perf_counter()
            study(picture, seed=0)
            seconds.append(time.perf_counter() - began)
            conv.append(conv_pass_ms(picture))  # the reference, in the same moment
        rows.append((image_id, size, seconds, conv))
    return rows


def print_study(rows: list[StudyRow]) -> None:
    print(
        f"\ne. pixel_dropout_study(picture, seed=0) (draws=3), median and max of {STUDY_REPEATS} "
        f"after one warm-up (fewer, n, past {STUDY_BUDGET_S:g} s per image); "
        f"target < {TARGET_STUDY_S:g} s"
    )
    print(
        "reference: one depthwise 7 x 7 conv2d pass over the same (3, H, W) picture, median of "
        "10 right after each study run; x conv = median over the runs of study time / conv time"
    )
    header = (
        f"{'image':<12}{'size':<9}{'n':>3}{'median s':>10}{'max s':>8}{'conv ms':>9}"
        f"{'x conv':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    for image_id, size, seconds, conv in rows:
        if seconds is None:
            print(
                f"{image_id:<12}{size:<9}{0:>3}{'not built':>10}{'':>8}"
                f"{statistics.median(conv):>9.3f}"
            )
            continue
        median = statistics.median(seconds)
        ratio = statistics.median(s * 1e3 / c for s, c in zip(seconds, conv, strict=True))
        print(
            f"{image_id:<12}{size:<9}{len(seconds):>3}{median:>10.3f}{max(seconds):>8.3f}"
            f"{statistics.median(conv):>9.3f}{ratio:>8.0f}  {verdict(median < TARGET_STUDY_S)}"
        )
