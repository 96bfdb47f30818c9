"""Images: the samples and the uploads, decoded once, resized, named by the hash of their content.

Every image, sample or upload, goes through :func:`normalise`: EXIF orientation applied,
converted to RGB (transparency composited on white), resized so its long side is at most
512 px, and kept as a PNG (lossless, served to the browser once) plus a float tensor
``(3, H, W)`` in [0, 1] (what the dropouts act on).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import threading
import uuid
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .config import Settings
from .errors import ApiError

# MPO is the multi-picture JPEG of many phones and cameras: its first picture is used.
ACCEPTED_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP")
UPLOAD_ID = re.compile(r"^u[0-9a-f]{24}$")


@dataclass(frozen=True)
class Sample:
    id: str
    file: str
    title: str
    credit: str


SAMPLES: tuple[Sample, ...] = (
    Sample("cat", "cat.png", "Chelsea the cat", "Stefan van der Walt, CC0 (scikit-image)"),
    Sample("astronaut", "astronaut.png", "Eileen Collins", "NASA, public domain (scikit-image)"),
    Sample("coffee", "coffee.png", "A cup of coffee", "Rachel Michetti, CC0 (scikit-image)"),
)


@dataclass(frozen=True)
class StoredImage:
    id: str
    title: str
    credit: str
    width: int
    height: int
    png: bytes
    tensor: torch.Tensor  # (3, H, W) float32 in [0, 1]


def normalise(data: bytes, settings: Settings) -> tuple[bytes, torch.Tensor]:
    """Decode, orient, convert and resize an image file; ``ApiError`` if it is not a usable one."""
    Image.MAX_IMAGE_PIXELS = settings.max_source_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise ApiError(
                        415,
                        "file",
                        f"{opened.format} images are not supported",
                        "PNG, JPEG, WebP, GIF or BMP",
                    )
                if opened.width * opened.height > settings.max_source_pixels:
                    raise _too_many_pixels(opened.width, opened.height, settings)
                opened.seek(0)
                picture = ImageOps.exif_transpose(opened)
                picture.load()
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApiError(
            413, "file", "the image has too many pixels", _pixel_limit(settings)
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        reason = (
            "not an image file"
            if isinstance(error, UnidentifiedImageError)
            else "the image file is damaged or cut short"
        )
        raise ApiError(
            422, "file", f"not a readable image: {reason}", "PNG, JPEG, WebP, GIF or BMP"
        ) from None
    picture = _to_rgb(picture)
    picture.thumbnail((settings.max_image_side, settings.max_image_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False, compress_level=6)
    pixels = (
        torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255.0)
        .permute(2, 0, 1)
        .contiguous()
    )
    return buffer.getvalue(), pixels


def _pixel_limit(settings: Settings) -> str:
    return f"at most {settings.max_source_pixels:,} pixels"


def _too_many_pixels(width: int, height: int, settings: Settings) -> ApiError:
    return ApiError(413, "file", f"the image is {width} x {height} pixels", _pixel_limit(settings))


def _to_rgb(picture: Image.Image) -> Image.Image:
    if picture.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit integer) grey: Pillow's convert("RGB") clips at 255 instead of
        # scaling, so map the full 16-bit range to 8 bits here.
        levels = np.asarray(picture, dtype=np.float64)
        grey = np.clip(np.rint(levels * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return picture.convert("RGB")


SAMPLE_MAX_PIXELS = 40_000_000  # the shipped pictures are far smaller


def upload_id(data: bytes) -> str:
    """Uploads are named by the SHA-256 of the bytes sent: the same file, the same id."""
    return "u" + hashlib.sha256(data).hexdigest()[:24]


class ImageStore:
    """Samples and uploads, with the decoded images of the most recent ones kept in memory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: OrderedDict[str, StoredImage] = OrderedDict()
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """Whether this worker can serve: the samples decode and uploads can be written (the
        directory is made if missing)."""
        try:
            self.samples()
            self.settings.upload_dir.mkdir(parents=True, exist_ok=True)
        except (OSError, ApiError):
            return False
        return os.access(self.settings.upload_dir, os.W_OK)

    def samples(self) -> list[StoredImage]:
        return [self.get(sample.id) for sample in SAMPLES]

    def get(self, image_id: str) -> StoredImage:
        with self._lock:
            cached = self._cache.get(image_id)
            if cached is not None:
                self._cache.move_to_end(image_id)
        if cached is not None:
            if UPLOAD_ID.match(image_id):
                self._keep_on_disk(cached)
            return cached
        stored = self._load(image_id)
        self._remember(stored)
        return stored

    def add(self, data: bytes) -> StoredImage:
        image_id = upload_id(data)
        png, tensor = normalise(data, self.settings)
        path = self._upload_path(image_id)
        if path.exists():
            _touch(path)
        else:
            self._write(path, png)
        self._evict(keep=path)
        stored = _stored(image_id, "your image", "uploaded", png, tensor)
        self._remember(stored)
        return stored

    def _keep_on_disk(self, stored: StoredImage) -> None:
        """An upload in use stays in the shared directory for the other workers: its time is
        refreshed, or, if eviction took it meanwhile, it is written back from memory."""
        path = self._upload_path(stored.id)
        try:
            os.utime(path)
        except FileNotFoundError:
            self._write(path, stored.png)

    def _write(self, path: Path, png: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private temporary name per request: two requests writing the same file at once each
        # write their own copy, and the atomic rename lets the last one win.
        temporary = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp")
        try:
            temporary.write_bytes(png)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)

    def _evict(self, keep: Path) -> None:
        """Bound the upload directory to ``max_upload_store_bytes``: delete the least recently
        used uploads (by modification time, which every use refreshes) until it fits, never
        ``keep`` (the one just added). Samples live elsewhere and are never touched. Safe with
        several workers on one directory: a file another one deleted first is skipped."""
        files = []
        for path in self.settings.upload_dir.glob("u*.png"):
            with contextlib.suppress(FileNotFoundError):
                info = path.stat()
                files.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.settings.max_upload_store_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size

    def _load(self, image_id: str) -> StoredImage:
        for sample in SAMPLES:
            if sample.id == image_id:
                data = (self.settings.samples_dir / sample.file).read_bytes()
                # The shipped samples are trusted: the upload limit on pixels is not theirs.
                trusted = replace(self.settings, max_source_pixels=SAMPLE_MAX_PIXELS)
                png, tensor = normalise(data, trusted)
                return _stored(sample.id, sample.title, sample.credit, png, tensor)
        if UPLOAD_ID.match(image_id):
            path = self._upload_path(image_id)
            with contextlib.suppress(FileNotFoundError):
                data = path.read_bytes()
                _touch(path)
                png, tensor = normalise(data, self.settings)
                return _stored(image_id, "your image", "uploaded", png, tensor)
        known = ", ".join(sample.id for sample in SAMPLES)
        raise ApiError(404, "image", f"no image {image_id!r}", f"{known}, or the id of an upload")

    def _upload_path(self, image_id: str) -> Path:
        return self.settings.upload_dir / f"{image_id}.png"

    def _remember(self, stored: StoredImage) -> None:
        with self._lock:
            self._cache[stored.id] = stored
            self._cache.move_to_end(stored.id)
            while len(self._cache) > self.settings.image_cache_size:
                self._cache.popitem(last=False)


def _touch(path: Path) -> None:
    """Mark an upload as used now: eviction deletes the least recently used first."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(path)


def _stored(
    image_id: str, title: str, credit: str, png: bytes, tensor: torch.Tensor
) -> StoredImage:
    return StoredImage(image_id, title, credit, tensor.shape[2], tensor.shape[1], png, tensor)
