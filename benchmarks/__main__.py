"""``python -m benchmarks [library|wire|latency|views|export|training|compression|lstm|learn]``:
run benchmarks and print their tables.

With no argument, all of them, in this order. None asserts anything about time: the figures
and their targets are printed for people to read.
"""

from __future__ import annotations

import importlib
import sys

ALL = (
    "library",
    "wire",
    "latency",
    "views",
    "export",
    "training",
    "compression",
    "uncertainty",
    "lstm",
    "learn",
)


def main(names: list[str]) -> None:
    for name in names or ALL:
        if name not in ALL:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(ALL)}")
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
