"""The writers of an export's file, each taking the frames one by one:

- ``gif``: looping, one adaptive 256-colour palette per frame (Pillow's fast octree, no
  dithering, so masks stay crisp), each frame shown ``1 / fps`` s (GIF counts in 1/100 s);
- ``mp4``: H.264 (libx264, yuv420p, CRF 18, one thread and bit-exact flags: the same bytes on
  every machine) through the ffmpeg that imageio-ffmpeg ships in its wheel; both sides rounded
  down to even, as yuv420p needs;
- ``html``: one file that plays offline (frames as lossless WebP data URLs, the player's
  script and styles inline, a Content-Security-Policy that forbids every request), see
  :mod:`app.render.standalone`.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import tempfile
from collections.abc import Callable

import numpy as np
from PIL import Image

from .options import ExportOptions

WEBP = {"format": "WEBP", "lossless": True, "method": 2, "quality": 50}
X264 = ["-preset", "medium", "-crf", "18", "-threads", "1", "-x264-params", "threads=1"]
BIT_EXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"]


class Encoder:
    """Takes the frames one by one (``iteration`` says which: a repeated one may be reused)."""

    def has(self, iteration: int) -> bool:
        return False

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``finish`` would have (on an error or a cancel)."""


class GifEncoder(Encoder):
    def __init__(self, options: ExportOptions) -> None:
        self.duration = round(1000 / options.fps)
        self.frames: list[Image.Image] = []
        self.seen: dict[int, Image.Image] = {}

    def has(self, iteration: int) -> bool:
        return iteration in self.seen

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        if picture is None:
            self.frames.append(self.seen[iteration])
            return
        quantised = picture.quantize(
            256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        self.seen[iteration] = quantised
        self.frames.append(quantised)

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        first, *rest = self.frames
        first.save(
            buffer, format="GIF", save_all=True, append_images=rest, duration=self.duration,
            loop=0, optimize=False, disposal=1,
        )  # fmt: skip
        return buffer.getvalue()


class Mp4Encoder(Encoder):
    def __init__(self, options: ExportOptions) -> None:
        import imageio_ffmpeg  # imported here: a GIF or HTML export does not need ffmpeg

        handle, self.path = tempfile.mkstemp(prefix="dropout-lab-", suffix=".mp4")
        os.close(handle)
        self.size = options.size
        self.writer = imageio_ffmpeg.write_frames(
            self.path,
            self.size,
            fps=options.fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=[*X264, *BIT_EXACT, "-movflags", "+faststart"],
        )
        self.writer.send(None)  # start ffmpeg
        self.closed = False

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        assert picture is not None
        self.writer.send(np.ascontiguousarray(np.asarray(picture)))

    def finish(self) -> bytes:
        self.writer.close()
        self.closed = True
        try:
            with open(self.path, "rb") as file:
                return file.read()
        finally:
            os.unlink(self.path)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):  # ffmpeg may be gone; the file goes anyway
                self.writer.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class HtmlEncoder(Encoder):
    """Frames as lossless WebP (each iteration once), assembled by :func:`standalone_html`."""

    def __init__(
        self, options: ExportOptions, page: Callable[[list[str], list[int]], bytes]
    ) -> None:
        self.page = page
        self.images: list[str] = []
        self.index: dict[int, int] = {}
        self.sequence: list[int] = []

    def has(self, iteration: int) -> bool:
        return iteration in self.index

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        if picture is not None:
            buffer = io.BytesIO()
            picture.save(buffer, **WEBP)  # type: ignore[arg-type]
            self.index[iteration] = len(self.images)
            self.images.append(
                "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()
            )
        self.sequence.append(self.index[iteration])

    def finish(self) -> bytes:
        return self.page(self.images, self.sequence)
