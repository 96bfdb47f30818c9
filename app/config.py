"""Settings of the web app: paths and the limits that protect the server from its input."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    root: Path = ROOT
    upload_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("DROPOUT_LAB_UPLOADS", ROOT / "var" / "uploads")
        )
    )
    max_upload_bytes: int = 12 * 1024 * 1024
    max_source_pixels: int = 40_000_000  # a decoded upload larger than this is refused
    max_image_side: int = 512  # uploads and samples are resized to this long side
    max_frames_per_request: int = 64
    max_stats_per_request: int = 512
    max_iteration: int = 1_000_000
    image_cache_size: int = 24  # decoded pictures (3 MB each at 512 x 512) per process
    study_cache_size: int = 32  # a reconstruction study: about 150 KB of JSON
    scene_cache_size: int = 32  # a feature-map scene holds 8 maps of 128 x 128: 0.5 MB
    max_training_runs: int = 2  # training runs (any view) at once per process; then 503
    # Requests that compute, in lanes (app/capacity.py): quick ones (frames, scenes) at most
    # cpu_workers at once per process with cpu_queue waiting, heavy ones (exports) and uploads
    # likewise with their own bounds; past them 503 at once. The
    # defaults suit one process per core (dropout-lab serve): a queue of a few frames' time.
    cpu_workers: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_CPU_WORKERS", 2))
    cpu_queue: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_CPU_QUEUE", 16))
    heavy_workers: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_HEAVY_WORKERS", 1))
    heavy_queue: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_HEAVY_QUEUE", 2))
    upload_workers: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_UPLOAD_WORKERS", 1))
    upload_queue: int = field(default_factory=lambda: _env_int("DROPOUT_LAB_UPLOAD_QUEUE", 16))
    # Upload bodies received at once per process, before their lane (each held in memory, at
    # most max_upload_bytes); one whose next chunk takes longer than upload_chunk_timeout_s
    # is answered 408 and dropped.
    upload_receiving: int = field(
        default_factory=lambda: _env_int("DROPOUT_LAB_UPLOAD_RECEIVING", 32)
    )
    upload_chunk_timeout_s: float = field(
        default_factory=lambda: float(os.environ.get("DROPOUT_LAB_UPLOAD_CHUNK_TIMEOUT_S", 10))
    )
    # The upload directory's bound: past it the least recently used uploads are deleted
    # (samples live elsewhere and are never touched).
    max_upload_store_bytes: int = field(
        default_factory=lambda: (
            int(os.environ.get("DROPOUT_LAB_UPLOAD_STORE_MB", 512)) * 1024 * 1024
        )
    )

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def samples_dir(self) -> Path:
        return self.root / "sample_images"
