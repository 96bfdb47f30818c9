"""The writers of an export's file, each taking the frames one by one:

- ``gif``: looping, one adaptive 256-colour palette per frame (Pillow's fast octree, no
  dithering, so masks stay crisp), each frame shown ``1 / fps`` s (GIF counts in 1/100 s);
- ``mp4``: H.264 (libx264, yuv420p, CRF 18, one thread and bit-exact flags: the same bytes on
  every machine) through the ffmpeg that imageio-ffmpeg ships in its wheel; both sides rounded
  down to even, as yuv420p needs;
- ``html``: one file that plays offline (frames as lossless WebP data URLs, the player's
  script and styles inline, a Content-Security-Policy that forbids every request), see
  :mod:`app.export.standalone`.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import subprocess
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
    """H.264 through the ffmpeg binary of ``imageio-ffmpeg``'s wheel, fed raw RGB frames on
    its standard input. Finished: its input closed, ffmpeg ends and the file is read. Closed
    before (a cancelled export): ffmpeg is killed at once, not left to encode what it holds."""

    def __init__(self, options: ExportOptions) -> None:
        import imageio_ffmpeg  # imported here: a GIF or HTML export does not need ffmpeg

        handle, self.path = tempfile.mkstemp(prefix="dropout-lab-", suffix=".mp4")
        os.close(handle)
        self.size = options.size
        width, height = self.size
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y",
            "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}",
            "-pix_fmt", "rgb24", "-r", str(options.fps), "-i", "-",
            "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-v", "error",
            *X264, *BIT_EXACT, "-movflags", "+faststart", self.path,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.closed = False

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        assert picture is not None and self.process.stdin is not None
        self.process.stdin.write(np.ascontiguousarray(np.asarray(picture)).tobytes())

    def finish(self) -> bytes:
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        errors = self.process.stderr.read()  # "-v error": a few lines at most
        self.process.wait()
        self.process.stderr.close()
        self.closed = True
        try:
            if self.process.returncode != 0:
                raise RuntimeError(f"ffmpeg failed: {errors.decode(errors='replace')[-500:]}")
            with open(self.path, "rb") as file:
                return file.read()
        finally:
            os.unlink(self.path)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.process.kill()  # what it holds is not worth encoding: the export was cancelled
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
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
