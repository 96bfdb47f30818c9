"""``python -m benchmarks.uncertainty``: what Monte Carlo dropout's view costs.

a. The issue's figure: Monte Carlo prediction with T = 100 passes on 200 points (the default
   regression network, 1 -> 64 -> 64 -> 1 with BatchNorm, p = 0.1): ours, the T passes as one
   batched forward (:func:`dropouts.lab.uncertainty.sample_passes`: BatchNorm folded, each pass's
   mask folded into the next layer, masks drawn at once) and their statistics, against a
   Python loop of T forward passes of the same module (:func:`dropouts.mc.mc_predict`, only
   the dropout modules in training mode), timed interleaved in the same run. Targets: at
   least 5x faster than the loop, under 30 ms. Also T = 500 and one thread.
b. The view: training the default network of each task (target well under 2 s: the first
   request of a setting trains it), a cold setting's theory, and a frame (T = 50) of each task.
c. Through a real server (uvicorn on loopback): the time from ``GET /api/train/uncertainty``
   to its ``info`` event (target 200 ms) and to the end of the stream, for a setting being
   trained and for one trained already (replayed).

Printed, never asserted.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
import torch

from app.loopback import serve
from dropouts import mc
from dropouts.lab import uncertainty as U
from dropouts.lab.registry import get_method, get_view, validate_params, validate_view_params
from dropouts.lab.views import BUILT

from .timing import median_ms

TARGET_RATIO = 5.0
TARGET_MS = 30.0
TARGET_TRAIN_S = 2.0
TARGET_FIRST_EVENT_MS = 200.0


def prediction(threads: int) -> None:
    torch.set_num_threads(threads)
    model = U.trained_model(U.UncertaintySetup())
    network, x = model.network, model.data.grid
    tau = U.tau(0.1, 0.3, 40, 1e-5)
    print(
        f"a. Monte Carlo prediction, {x.shape[0]} points, network 1-64-64-1 with BatchNorm, "
        f"p = 0.1; torch {torch.__version__}, {threads} thread(s); medians, interleaved"
    )
    header = (
        f"{'T':>5}  {'ours, batched (ms)':>19}  {'loop of T passes (ms)':>22}  {'x faster':>9}  ok"
    )
    print(header)
    print("-" * len(header))
    for T in (100, 500):

        def batched(T: int = T) -> object:
            masks = U.draw_masks(network, T, torch.Generator().manual_seed(0))
            return U.predict(U.sample_passes(network, x, masks), "regression", tau)

        def loop(T: int = T) -> object:
            return mc.mc_predict(network, x, T=T, seed=0, tau=tau)

        times = median_ms({"ours": batched, "loop": loop}, budget_s=1.5)
        ratio = times["loop"] / times["ours"]
        ok = ratio >= TARGET_RATIO and (T != 100 or times["ours"] < TARGET_MS)
        print(
            f"{T:>5}  {times['ours']:>19.2f}  {times['loop']:>22.2f}  {ratio:>8.1f}x  "
            f"{'yes' if ok else 'NO'}"
        )
    print(
        f"targets: T = 100 at least {TARGET_RATIO:.0f}x faster than the loop, "
        f"under {TARGET_MS:.0f} ms"
    )


def view(repeats: int) -> None:
    torch.set_num_threads(2)
    print("\nb. the view (the frames endpoint's threads), medians of", repeats)
    for task in U.TASKS:
        trainings = []
        theories = []
        frames = []
        for seed in range(100, 100 + repeats):
            setup = U.UncertaintySetup(task=task, seed=seed)
            start = time.perf_counter()
            U.train(setup)
            trainings.append(time.perf_counter() - start)
            chosen = validate_params(get_method("mc_dropout"), {}) | validate_view_params(
                get_view("uncertainty"), {"task": task}
            )
            shown = BUILT["uncertainty"]
            scene = shown.scene(None)
            start = time.perf_counter()
            theory = shown.theory("mc_dropout", chosen, scene, seed=seed)  # trains, cached
            theories.append(time.perf_counter() - start)
            start = time.perf_counter()
            shown.frames("mc_dropout", chosen, seed, range(0, 8), scene, theory)
            frames.append((time.perf_counter() - start) / 8)
        train_s = statistics.median(trainings)
        print(
            f"{task:<15} training {train_s:.2f} s (target < {TARGET_TRAIN_S:.0f} s: "
            f"{'yes' if train_s < TARGET_TRAIN_S else 'NO'}), cold theory (training "
            f"included) {statistics.median(theories):.2f} s, a frame at T = 50 "
            f"{statistics.median(frames) * 1e3:.1f} ms"
        )


def through_a_server(repeats: int) -> None:
    print("\nc. through a real server: GET /api/train/uncertainty")
    first: dict[str, list[float]] = {"trained now": [], "replayed": []}
    whole: dict[str, list[float]] = {"trained now": [], "replayed": []}
    with (
        tempfile.TemporaryDirectory() as uploads,
        serve(Path(uploads)) as url,
        httpx.Client(timeout=60) as http,
    ):
        for index in range(repeats + 1):
            for kind in ("trained now", "replayed"):  # the same seed twice: then cached
                start = time.perf_counter()
                with http.stream("GET", f"{url}/api/train/uncertainty?seed={index}") as r:
                    lines = r.iter_lines()
                    for line in lines:
                        if line.startswith("event: info"):
                            seen = time.perf_counter() - start
                            break
                    for _ in lines:
                        pass
                if index:  # the first round warms the server up
                    first[kind].append(seen * 1e3)
                    whole[kind].append((time.perf_counter() - start) * 1e3)
    for kind in first:
        median = statistics.median(first[kind])
        verdict = "yes" if median <= TARGET_FIRST_EVENT_MS else "NO"
        print(
            f"{kind:<12} info event {median:.1f} ms (max {max(first[kind]):.1f}; target "
            f"{TARGET_FIRST_EVENT_MS:.0f} ms: {verdict}),"
            f" end of the stream {statistics.median(whole[kind]):.0f} ms"
        )


def main() -> None:
    prediction(threads=torch.get_num_threads())
    prediction(threads=1)
    view(repeats=3)
    through_a_server(repeats=3)


if __name__ == "__main__":
    main()
