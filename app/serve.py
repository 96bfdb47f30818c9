"""``dropout-lab serve``: the app as a deployment runs it, several worker processes behind one
port, the host, port and worker count from the command line or the environment (``HOST``,
``PORT``, ``WORKERS``), as a container or a platform sets them.

Every worker is a whole app: frames, training runs and exports are decided by the request
alone, and uploads go to one directory (``DROPOUT_LAB_UPLOADS``) that every worker, and every
container given the same volume, reads. An image uploaded through one worker is animated by any
other.
"""

from __future__ import annotations

import os

import uvicorn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def default_workers() -> int:
    """One worker per core: the work is CPU-bound and each worker computes in a few threads."""
    return max(1, os.cpu_count() or 1)


def serve(host: str, port: int, workers: int) -> None:
    """Run uvicorn with ``workers`` processes on ``host:port`` until stopped."""
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,  # the client's address and scheme from a reverse proxy in front
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=10,
        log_level=os.environ.get("LOG_LEVEL", "info"),
    )
