"""Asking a trained view as the page does: a frame, a match or an export of a setting not
trained yet is 503 with the training stream to open (app/untrained.py); open it to its end,
then ask again."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

STREAM_HEADER = "x-training-stream"


def train_through_stream(client: TestClient, stream: str) -> list[str]:
    """Read the training stream to its end; the names of its events."""
    events = []
    with client.stream("GET", stream) as answer:
        assert answer.status_code == 200, answer.read()
        for line in answer.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
    return events


def after_training(client: TestClient, url: str, **kwargs: Any) -> httpx.Response:
    """``client.get(url)``, having trained what it needed through its training stream."""
    first = client.get(url, **kwargs)
    if first.status_code != 503 or STREAM_HEADER not in first.headers:
        return first
    events = train_through_stream(client, first.headers[STREAM_HEADER])
    assert events[-1] == "done", events
    return client.get(url, **kwargs)
