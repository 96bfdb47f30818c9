"""``python -m benchmarks.lstm``: what the LSTM view and its memory task cost.

- A frame of the view (issue 11: a sequence of 50 steps, 32 units, every mode; target < 10 ms):
  for each of the four methods, :meth:`dropouts.lab.views.lstm.LSTMView.frame`, which runs the toy
  LSTM three times (no dropout, the method, the naive reference: with the four methods, all six
  modes) and computes the masks' statistics and the trajectories. The reference, measured in
  the same run and interleaved: one bare forward of :class:`dropouts.rnn.DropoutLSTM` without
  dropout over the same sequence (``x bare`` is the frame's cost in bare forwards; 3 is the
  floor for three runs).
- The memory task (target: each mode's training under 10 s): one run per mode at the registry's
  defaults (:func:`dropouts.lab.memory.train_mode`, 500 Adam steps of 32 sequences of 20 steps),
  not memoised, in one torch thread as the server trains.
- Through a real server (uvicorn on loopback): the time from the request to the ``info`` event
  and to the first ``progress`` event (target 200 ms) for a setting the server has not trained
  (the stream is closed after it: the server stops that training), and for a small setting
  trained before (replayed).

Medians, printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import torch

from app.loopback import serve
from dropouts.lab.memory import MEMORY_MODES, MemorySetup, long_distance_accuracy, train_mode
from dropouts.lab.registry import get_method, get_view
from dropouts.lab.views.lstm import LSTM_METHODS, VIEW
from dropouts.lab.views.lstm_toy import INPUTS, draw_sequence, toy_lstm

TARGET_FRAME_MS = 10.0
TARGET_RUN_S = 10.0
TARGET_FIRST_EVENT_MS = 200.0


def _params(method: str) -> dict[str, object]:
    params = {p.name: p.default for p in get_method(method).params}
    return params | {p.name: p.default for p in get_view("lstm").params}


def frames(repeats: int) -> None:
    scene = VIEW.scene(None)
    setups = {}
    for method in LSTM_METHODS:
        params = _params(method)
        setups[method] = (params, VIEW.theory(method, params, scene))  # type: ignore[arg-type]
    length, units = setups["rnndrop"][1].length, setups["rnndrop"][1].units
    sequence = draw_sequence(length, torch.Generator().manual_seed(0))
    bare_model = toy_lstm("none", {}, units, None)

    def bare() -> None:
        with torch.no_grad():
            bare_model(sequence)

    times: dict[str, list[float]] = {name: [] for name in ("bare", *LSTM_METHODS)}
    for method, (params, theory) in setups.items():  # warm-up
        VIEW.frame(method, params, 0, 0, scene, theory)  # type: ignore[arg-type]
    bare()
    for iteration in range(repeats):
        start = time.perf_counter()
        bare()
        times["bare"].append(time.perf_counter() - start)
        for method, (params, theory) in setups.items():
            start = time.perf_counter()
            VIEW.frame(method, params, 0, iteration, scene, theory)  # type: ignore[arg-type]
            times[method].append(time.perf_counter() - start)
    median = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    print(
        f"LSTM view frame: {length} steps, {units} units, {INPUTS} inputs; torch "
        f"{torch.__version__}, {torch.get_num_threads()} thread(s); median of {repeats} "
        "interleaved frames"
    )
    header = f"{'frame':<58}{'ms':>8}{'x bare':>9}{'target':>9}  ok"
    print(header)
    print("-" * len(header))
    reference = median["bare"]
    label = "bare DropoutLSTM forward, no dropout (the reference)"
    print(f"{label:<58}{reference:>8.2f}{1:>8.2f}x")
    for method in LSTM_METHODS:
        ms = median[method]
        verdict = "yes" if ms < TARGET_FRAME_MS else "NO"
        label = f"{method} frame (none + {setups[method][1].mode} + naive)"
        print(f"{label:<58}{ms:>8.2f}{ms / reference:>8.2f}x{'<10 ms':>9}  {verdict}")


def memory() -> None:
    setup = MemorySetup()
    print(
        f"\nmemory task at the defaults: k = {setup.k} (sequences of {setup.length} steps), "
        f"{setup.symbols} symbols, p = {setup.p}, {setup.steps} steps of 32 sequences, one run "
        "per mode, one torch thread"
    )
    header = f"{'mode':<14}{'s':>8}{'steps/s':>9}{'target':>9}  ok   accuracy k=1, long"
    print(header)
    print("-" * len(header))
    previous = torch.get_num_threads()
    for mode in MEMORY_MODES:
        start = time.perf_counter()
        run = train_mode(setup, mode)
        seconds = time.perf_counter() - start
        verdict = "yes" if seconds < TARGET_RUN_S else "NO"
        print(
            f"{mode:<14}{seconds:>8.2f}{setup.steps / seconds:>9.0f}{'<10 s':>9}  {verdict:<4} "
            f"{run.accuracy[0]:.3f}, {long_distance_accuracy(run.accuracy):.3f}"
        )
    torch.set_num_threads(previous)


def _first_events(http: httpx.Client, url: str, *, whole: bool) -> tuple[float, float, float]:
    """Seconds from the request to the info event and to the first progress event; then the
    stream is closed (or read to its end with ``whole``: its length)."""
    start = time.perf_counter()
    info = progress = end = math.nan
    with http.stream("GET", url) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event: info") and math.isnan(info):
                info = time.perf_counter() - start
            elif line.startswith("event: progress") and math.isnan(progress):
                progress = time.perf_counter() - start
                if not whole:
                    break
    end = time.perf_counter() - start
    return info, progress, end


def through_a_server(repeats: int) -> None:
    print("\nthrough a real server (uvicorn on loopback), GET /api/train/memory:")
    cold: list[tuple[float, float, float]] = []
    warm: list[tuple[float, float, float]] = []
    small = "memory_k=4&memory_steps=100"
    with (
        tempfile.TemporaryDirectory() as uploads,
        serve(Path(uploads)) as url,
        httpx.Client(timeout=300) as http,
    ):
        _first_events(http, f"{url}/api/train/memory?{small}&seed=999", whole=True)  # warm-up
        for seed in range(1, repeats + 1):
            cold.append(_first_events(http, f"{url}/api/train/memory?seed={seed}", whole=False))
            query = f"{url}/api/train/memory?{small}&seed={100 + seed}"
            _first_events(http, query, whole=True)  # trains it
            warm.append(_first_events(http, query, whole=True))  # memoised: replayed
            time.sleep(0.5)  # the closed stream's training stops before the next request
    for label, runs in (("defaults, not trained yet", cold), ("small, trained before", warm)):
        info, progress, whole = (statistics.median(column) for column in zip(*runs, strict=True))
        verdict = "yes" if progress * 1e3 <= TARGET_FIRST_EVENT_MS else "NO"
        tail = f", whole stream {whole * 1e3:7.1f} ms" if "before" in label else ""
        print(
            f"{label:<27} info {info * 1e3:6.1f} ms, first progress {progress * 1e3:6.1f} ms "
            f"(target {TARGET_FIRST_EVENT_MS:.0f} ms: {verdict}){tail}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lstm")
    parser.add_argument("--repeats", type=int, default=200, help="frames per measurement")
    parser.add_argument("--streams", type=int, default=3, help="streams per server measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--skip-training", action="store_true", help="frames only")
    args = parser.parse_args(argv or [])
    torch.set_num_threads(args.threads)
    frames(args.repeats)
    if not args.skip_training:
        memory()
        through_a_server(args.streams)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
