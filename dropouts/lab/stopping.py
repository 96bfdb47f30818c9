"""Work its caller no longer wants, stopped between two steps.

A caller that can tell when it has lost interest (a server whose client left) runs the work
inside :func:`stoppable` with an event it sets then; long loops call :func:`checkpoint` between
steps, which raises :class:`StoppedError` once the event is set. Outside :func:`stoppable`,
:func:`checkpoint` does nothing, so the library's callers never see it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_STOP: ContextVar[threading.Event | None] = ContextVar("dropout_lab_stop", default=None)


class StoppedError(Exception):
    """The caller left: the work stopped at a :func:`checkpoint`."""


@contextmanager
def stoppable(stop: threading.Event) -> Iterator[None]:
    """Within this block (and threads started with its context), :func:`checkpoint` raises
    once ``stop`` is set."""
    token = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def checkpoint() -> None:
    """Raise :class:`StoppedError` if the caller of the current context has left."""
    stop = _STOP.get()
    if stop is not None and stop.is_set():
        raise StoppedError
