"""``python -m benchmarks.load`` (``make load``): a class on the lab at once, on loopback.

Starts the server the way the README deploys it (``dropout-lab serve``: one worker process per
core, one shared upload directory), then runs the students of ``benchmarks/locustfile.py`` at
50 and at 200 concurrent users for a bounded time each, and prints per kind of request the
count, throughput, latency percentiles and failures (503s apart: the server shedding load),
the server's memory (all its processes) before, at its peak and after, and how soon after the
load stops it answers a new frame normally. Never part of ``make test``; asserts nothing.

Options: ``--users 50,200``, ``--seconds 60``, ``--workers N``, ``--hostile 0,0.05`` (the
shares of hostile turns to run at each user count: benchmarks/locustfile.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
FRAME = "/api/frames?method=standard&view=image&image=cat&seed=99&start=3&count=1&p=0.35"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(workers: int, uploads: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, DROPOUT_LAB_UPLOADS=str(uploads), LOG_LEVEL="warning")
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")


def server_memory_mb(process: subprocess.Popen[bytes]) -> float:
    """Resident memory of the server and its worker processes, in MB."""
    try:
        parent = psutil.Process(process.pid)
        members = [parent, *parent.children(recursive=True)]
        return sum(p.memory_info().rss for p in members if p.is_running()) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


class MemoryWatch(threading.Thread):
    """Samples the server's memory every half second until stopped; keeps the peak."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.peak = 0.0
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            value = server_memory_mb(self.process)
            self.samples.append(value)
            self.peak = max(self.peak, value)
            self.stopped.wait(0.5)


def run_locust(url: str, users: int, seconds: int, prefix: Path, hostile: float) -> None:
    """``hostile``: the share of the hostile student's turns (benchmarks/locustfile.py)."""
    rate = max(10, users // 5)  # all users in within about 5 s
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", url, "-u", str(users), "-r", str(rate), "-t", f"{seconds}s",
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    with Path(f"{prefix}_locust.log").open("wb") as log:  # its own summary: the CSVs say it
        environment = dict(os.environ, DROPOUT_LAB_HOSTILE=str(hostile))
        subprocess.run(
            command, cwd=ROOT, check=True, timeout=seconds + 120, stdout=log, stderr=log,
            env=environment,
        )  # fmt: skip


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with Path(f"{prefix}_stats.csv").open() as handle:
        return list(csv.DictReader(handle))


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def recovery(url: str) -> tuple[float, float]:
    """Seconds from now until a new frame is answered 200, and that answer's time in ms."""
    started = time.perf_counter()
    while True:
        begun = time.perf_counter()
        try:
            answer = httpx.get(f"{url}{FRAME}&seed={int(begun * 1000) % 10**6}", timeout=10)
            if answer.status_code == 200:
                return begun - started, (time.perf_counter() - begun) * 1000
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def report(
    users: int, seconds: int, prefix: Path, memory: tuple[float, float, float], hostile: float
) -> None:
    stats = read_stats(prefix)
    failures = read_failures(prefix)
    shed: dict[str, int] = {}
    other: dict[str, int] = {}
    for row in failures:
        counts = shed if "503" in row["Error"] else other
        counts[row["Name"]] = counts.get(row["Name"], 0) + int(row["Occurrences"])
    print(f"\n{users} users for {seconds} s, hostile share {hostile:g}")
    header = "kind", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "503", "errors"
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in stats:
        name = row["Name"]
        print(
            f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} | {float(row['Max Response Time']):.0f} "
            f"| {shed.get(name, 0)} | {other.get(name, 0)} |"
        )
    before, peak, after = memory
    print(f"server memory: {before:.0f} MB before, peak {peak:.0f} MB, {after:.0f} MB after")
    for row in failures:
        if "503" not in row["Error"]:
            print(f"  error: {row['Method']} {row['Name']}: {row['Error']} x {row['Occurrences']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--users", default="50,200")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument(
        "--hostile", default="0.05", help="shares of hostile turns to run, e.g. 0,0.05"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="load-") as folder:
        work = Path(folder)
        process, url = start_server(args.workers, work / "uploads", work / "server.log")
        try:
            print(f"server: dropout-lab serve --workers {args.workers} at {url}")
            runs = [
                (int(users), float(share))
                for users in args.users.split(",")
                for share in args.hostile.split(",")
            ]
            for users, share in runs:
                before = server_memory_mb(process)
                watch = MemoryWatch(process)
                watch.start()
                prefix = work / f"u{users}-h{share:g}"
                run_locust(url, users, args.seconds, prefix, share)
                watch.stopped.set()
                watch.join()
                waited, answer_ms = recovery(url)
                time.sleep(2)
                memory = (before, watch.peak, server_memory_mb(process))
                report(users, args.seconds, prefix, memory, share)
                print(
                    f"after the load: a new frame answered {waited:.2f} s after it stopped, "
                    f"in {answer_ms:.0f} ms"
                )
        finally:
            process.terminate()
            process.wait(30)
        tracebacks = (work / "server.log").read_text().count("Traceback")
        print(f"server log: {tracebacks} tracebacks")


if __name__ == "__main__":
    main()
