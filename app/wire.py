"""The wire format of animation frames: masks, not pictures.

The browser already holds the picture, so a frame only needs its mask; the browser composites
``picture x mask`` itself. Measured on the 512 x 512 astronaut (``make bench``), a
packed-bit mask is 4-40 KB and costs well under a millisecond, where a PNG of the output costs
20-70 ms and 300-450 KB and a JPEG about 1-2 ms and 60-130 KB (blurred edges, wrong pixels).

Mask encodings (``frame.mask.encoding``):

- ``bits``: a 0/1 mask, one bit per pixel, row-major, most significant bit first
  (``numpy.packbits``), then zlib-deflated. Pixels with bit 1 are multiplied by ``value``;
  the others by 0.
- ``levels``: a real-valued mask (Gaussian noise) quantised to ``levels`` values evenly spaced
  on ``[low, high]`` (level ``k`` is ``low + k (high - low) / (levels - 1)``), one byte per
  pixel, deflated with Huffman coding only. Noise does not compress: its size is set by the
  number of levels (entropy about log2(levels / 8 * 4.13) bits per pixel over 1 +- 4 sigma).
  Measured on 512 x 512 (``make bench``): 256 levels 233 KB, 64 levels 167 KB, 32 levels
  133 KB, 16 levels 99 KB. 32 levels (steps of sigma / 4) look the same as 256 on screen and
  cost half the bytes; the statistics and histograms are computed on the exact mask.
- ``values``: a handful of per-channel factors, inline in the header.

The binary container (``application/x-dropout-frames``): the 4 bytes ``DLF1``, a little-endian
uint32 header length, the UTF-8 JSON header, then the payloads; each mask's ``offset`` and
``length`` locate its bytes after the header. ``format=json`` puts the payloads inline, in
base64, instead.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from dropouts.views.image import HISTOGRAM_BINS, ImageFrame, ImageTheory

MAGIC = b"DLF1"
MEDIA_TYPE = "application/x-dropout-frames"
REAL_LEVELS = 32


def _huffman_deflate(data: bytes) -> bytes:
    """A zlib stream with Huffman coding only: as small as level 9 for noise, and fast."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def encode_mask(mask: torch.Tensor, theory: ImageTheory) -> tuple[dict[str, Any], bytes]:
    """The mask's description for the header and its payload bytes."""
    if theory.unit == "channel":
        return {"encoding": "values", "values": [float(v) for v in mask.flatten()]}, b""
    plane = mask.reshape(mask.shape[-2], mask.shape[-1]).numpy()
    if theory.mask_kind == "binary":
        kept = plane != 0
        first = int(np.argmax(kept))  # the kept value, without copying every kept pixel
        value = float(plane.flat[first]) if kept.flat[first] else 0.0
        payload = zlib.compress(np.packbits(kept).tobytes(), 1)
        return {"encoding": "bits", "value": value}, payload
    low, high = theory.histogram_range
    top = REAL_LEVELS - 1
    levels = np.clip(np.rint((plane - low) * (top / (high - low))), 0, top)
    payload = _huffman_deflate(levels.astype(np.uint8).tobytes())
    return {"encoding": "levels", "low": low, "high": high, "levels": REAL_LEVELS}, payload


def _frame_header(frame: ImageFrame) -> dict[str, Any]:
    return {
        "iteration": frame.iteration,
        "dropped_fraction": frame.dropped_fraction,
        "mask_mean": frame.mask_mean,
        "mask_variance": frame.mask_variance,
        "output_mean_ratio": frame.output_mean_ratio,
        "histogram": list(frame.histogram),
        "p_t": frame.p_t,
    }


def histogram_edges(theory: ImageTheory) -> list[float]:
    low, high = theory.histogram_range
    return [low + (high - low) * i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)]


def build_header(
    context: dict[str, Any], theory: ImageTheory, frames: list[ImageFrame], *, with_masks: bool
) -> tuple[dict[str, Any], list[bytes]]:
    """The JSON header (context, theory, per-frame stats) and the mask payloads in order."""
    payloads: list[bytes] = []
    frame_headers = []
    offset = 0
    for frame in frames:
        if not with_masks:
            frame_headers.append(_frame_header(frame))
            continue
        description, payload = encode_mask(frame.mask, theory)
        if payload:
            description |= {"offset": offset, "length": len(payload)}
            offset += len(payload)
            payloads.append(payload)
        frame_headers.append(_frame_header(frame) | {"mask": description})
    header = context | {
        "theory": asdict(theory) | {"histogram_edges": histogram_edges(theory)},
        "frames": frame_headers,
    }
    return header, payloads


def to_binary(header: dict[str, Any], payloads: list[bytes]) -> bytes:
    encoded = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join([MAGIC, struct.pack("<I", len(encoded)), encoded, *payloads])


def to_json(header: dict[str, Any], payloads: list[bytes]) -> dict[str, Any]:
    """The same content with each payload inline as ``mask.data`` (base64)."""
    remaining = iter(payloads)
    frames = []
    for frame in header["frames"]:
        if "mask" not in frame:
            frames.append(frame)
            continue
        mask = dict(frame["mask"])
        if "offset" in mask:
            del mask["offset"], mask["length"]
            mask["data"] = base64.b64encode(next(remaining)).decode()
        frames.append(frame | {"mask": mask})
    return header | {"frames": frames}
