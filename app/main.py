"""The FastAPI application (``uvicorn app.main:app``)."""

from __future__ import annotations

from fastapi import FastAPI

from dropouts.registry import METHODS

app = FastAPI(title="Dropout Lab")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/methods")
def list_methods() -> list[dict[str, str]]:
    return [{"id": method.id, "name": method.name, "family": method.family} for method in METHODS]
