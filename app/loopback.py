"""Run the app in a child process on a free loopback port, and the browser that visits it:
for the browser tests and the benchmarks.

The port is bound here and the listening socket handed to the child (``uvicorn`` serves on
it), so no other server can take the port in between, even with one already on the machine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Debian's chromium, never a downloaded one; without the background-networking flags it keeps
# trying to reach Google's hosts from a machine with no network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVE = (
    "import socket, sys, uvicorn\n"
    "listening = socket.socket(fileno=int(sys.argv[1]))\n"
    "config = uvicorn.Config('app.main:app', log_level='warning',\n"
    "                        http='app.httpbounds:BoundedHttpProtocol')\n"
    "uvicorn.Server(config).run(sockets=[listening])\n"
)


@contextlib.contextmanager
def serve(
    upload_dir: Path,
    log_path: Path | None = None,
    wait_s: float = 60,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """``uvicorn app.main:app`` on 127.0.0.1:<free port> for the ``with`` block; its base URL.

    Uploads go to ``upload_dir``; the server's output to ``log_path`` (else to this process's);
    ``env`` adds to its environment (``DROPOUT_LAB_CPU_WORKERS``…). ``RuntimeError`` if it
    exits or does not answer ``/healthz`` within ``wait_s`` seconds.
    """
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    env = dict(os.environ, DROPOUT_LAB_UPLOADS=str(upload_dir), **(env or {}))
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("wb")) if log_path else None
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(listening.fileno())],
            cwd=ROOT,
            env=env,
            pass_fds=[listening.fileno()],
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
        )
    listening.close()  # the child holds its own copy
    try:
        _wait_until_healthy(process, url, wait_s, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, wait_s: float, log_path: Path | None
) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}{_tail(log_path)}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not answer /healthz in {wait_s:g} s{_tail(log_path)}")
        time.sleep(0.05)


def _tail(log_path: Path | None) -> str:
    return f":\n{log_path.read_text()[-4000:]}" if log_path and log_path.exists() else ""
