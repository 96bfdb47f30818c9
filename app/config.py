"""Settings of the web app: paths and the limits that protect the server from its input."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    image_cache_size: int = 64
    study_cache_size: int = 32  # a reconstruction study: about 150 KB of JSON
    scene_cache_size: int = 64  # a feature-map scene holds 8 maps of 128 x 128: 0.5 MB
    max_training_runs: int = 2  # dense-view training runs at once per process; then 503

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def samples_dir(self) -> Path:
        return self.root / "sample_images"
