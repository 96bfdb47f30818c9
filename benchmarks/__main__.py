"""``python -m benchmarks``: run every benchmark and print its table."""

from __future__ import annotations

from . import library

if __name__ == "__main__":
    library.main()
