"""``python -m benchmarks.training``: what the dense view's training run costs.

The run of the issue: a 2-64-64-2 ReLU network, 1000 full-batch Adam steps on 200 moons points,
trained with standard dropout (p = 0.5) and without, in lockstep, as ``GET /api/train`` does:

- ``ours``: :func:`dropouts.lab.training.train` consuming every snapshot (51: step 0 and every
  20 steps; each evaluates both networks on the training set, the 1000 test points and the
  40 x 40 boundary grid) and encoding each as the ``snapshot`` event's JSON, as the route does;
- ``bare torch``: a plain loop over the same two networks (built by ``build_network``, so the
  same modules and initial weights) and the same optimiser, with no snapshot and no encoding;
  also each network alone (``with dropout``, ``without``).

Target: ours within 20 % of the bare loop (what streaming and bookkeeping add), and under 1 s
per run. Medians of ``--repeats`` runs, interleaved round-robin after one warm-up each, in one
thread (``--threads``) as the server's runs share the machine's cores. Then, through a real
server (uvicorn on loopback), the time from the request to the ``info`` event (target 200 ms)
and to the end of the stream of a default run. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import torch
import torch.nn.functional as F

from app.loopback import serve
from dropouts.lab.trained.dense import snapshot_json
from dropouts.lab.training import TrainingSetup, build_network, train, training_data

SETUP = TrainingSetup("standard", n_train=200, width=64, depth=2, steps=1000, lr=0.01)
TARGET_RATIO = 1.2
TARGET_RUN_S = 1.0
TARGET_FIRST_EVENT_MS = 200.0


def ours(setup: TrainingSetup) -> int:
    """The route's work: every snapshot of both networks, encoded; the bytes made."""
    size = 0
    for snapshot in train(setup):
        size += len(json.dumps(snapshot_json(snapshot), separators=(",", ":")))
    return size


def bare(setup: TrainingSetup, networks: tuple[bool, ...] = (True, False)) -> int:
    """The same networks and optimiser in a plain torch loop (the reference)."""
    data = training_data(setup)
    models = [build_network(setup, dropout) for dropout in networks]
    optimizers = [torch.optim.Adam(m.parameters(), lr=setup.lr, fused=True) for m in models]
    x, y = data.x_train, data.y_train
    for _ in range(setup.steps):
        for model, optimizer in zip(models, optimizers, strict=True):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return 0


def interleaved(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, called round-robin after one warm-up call each."""
    for function in functions.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def in_process(repeats: int) -> None:
    print(
        f"2-{SETUP.width}x{SETUP.depth}-2 network, {SETUP.steps} full-batch Adam steps on "
        f"{SETUP.n_train} points, standard dropout p=0.5 and none; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s); median of {repeats} interleaved runs"
    )
    times = interleaved(
        {
            "ours": lambda: ours(SETUP),
            "bare": lambda: bare(SETUP),
            "bare with dropout": lambda: bare(SETUP, (True,)),
            "bare without": lambda: bare(SETUP, (False,)),
        },
        repeats,
    )
    header = f"{'run':<52}{'s':>8}{'x bare':>9}{'target':>9}  ok"
    print(header)
    print("-" * len(header))
    reference = times["bare"]
    rows = [
        ("bare torch, network with dropout alone", times["bare with dropout"], None),
        ("bare torch, network without dropout alone", times["bare without"], None),
        ("bare torch, both networks (the reference)", reference, None),
        ("ours: train() both + 51 snapshots + JSON", times["ours"], TARGET_RATIO),
    ]
    for label, seconds, target in rows:
        ratio = seconds / reference
        verdict = "" if target is None else ("yes" if ratio <= target else "NO")
        aim = "" if target is None else f"<={target:.2f}"
        print(f"{label:<52}{seconds:>8.3f}{ratio:>8.2f}x{aim:>9}  {verdict}")
    run_ok = "yes" if times["ours"] < TARGET_RUN_S else "NO"
    print(f"ours per run {times['ours']:.3f} s against the target {TARGET_RUN_S:.0f} s: {run_ok}")
    size = ours(SETUP)
    print(f"events of one run: {size / 1024:.0f} KB of snapshot JSON")


def through_a_server(repeats: int) -> None:
    print("\nthrough a real server (uvicorn on loopback), the default run of the page:")
    first_ms: list[float] = []
    whole_ms: list[float] = []
    with (
        tempfile.TemporaryDirectory() as uploads,
        serve(Path(uploads)) as url,
        httpx.Client(timeout=60) as http,
    ):
        for index in range(repeats + 1):
            start = time.perf_counter()
            with http.stream("GET", f"{url}/api/train?method=standard&seed={index}") as r:
                lines = r.iter_lines()
                for line in lines:
                    if line.startswith("event: info"):
                        first = time.perf_counter() - start
                        break
                for _ in lines:
                    pass
            if index:  # the first request warms the server up
                first_ms.append(first * 1e3)
                whole_ms.append((time.perf_counter() - start) * 1e3)
    first = statistics.median(first_ms)
    verdict = "yes" if first <= TARGET_FIRST_EVENT_MS else "NO"
    print(
        f"request to info event: median {first:.1f} ms (max {max(first_ms):.1f}) "
        f"target {TARGET_FIRST_EVENT_MS:.0f} ms: {verdict}"
    )
    print(f"request to the end of the stream: median {statistics.median(whole_ms):.0f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv or [])
    torch.set_num_threads(args.threads)
    in_process(args.repeats)
    through_a_server(args.repeats)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
