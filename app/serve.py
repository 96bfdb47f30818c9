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

BOUNDED_HTTP = "app.httpbounds:BoundedHttpProtocol"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def default_workers() -> int:
    """One worker per core: the work is CPU-bound and each worker computes in a few threads."""
    return max(1, os.cpu_count() or 1)


def serve(host: str, port: int, workers: int) -> None:
    """Run uvicorn with ``workers`` processes on ``host:port`` until stopped. With several,
    each computes in its share of the cores' threads (``OMP_NUM_THREADS``, unless set): one
    process per core with one torch thread each, instead of every process spinning a thread
    team over every core."""
    if workers > 1:
        share = max(1, (os.cpu_count() or 1) // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(share))
        os.environ.setdefault("MKL_NUM_THREADS", str(share))
    # glibc gives every thread that allocates its own arena (up to 8 per core), which a
    # threaded server fills and never returns: memory grows with load. Two arenas keep it flat.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,  # the client's address and scheme from a reverse proxy in front
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=10,
        # Header size, count and time bounded (uvicorn's own protocol bounds none of them).
        http=BOUNDED_HTTP,
        log_level=os.environ.get("LOG_LEVEL", "info"),
    )
