"""The wire format of animation frames: masks, not pictures.

The browser already holds the picture, so a frame only needs its mask; the browser composites
``picture x mask`` itself. Measured on the 512 x 512 astronaut (``make bench``), a
packed-bit mask is 4-40 KB and costs well under a millisecond, where a PNG of the output costs
20-70 ms and 300-450 KB and a JPEG about 1-2 ms and 60-130 KB (blurred edges, wrong pixels).

Mask encodings (``frame.mask.encoding``):

- ``bits``: a 0/1 mask, one bit per pixel, row-major, most significant bit first
  (``numpy.packbits``), then zlib-deflated. Pixels with bit 1 are multiplied by ``value``;
  the others by 0.
- ``u8``: a real-valued mask quantised to 256 levels on ``[low, high]``, deflated.
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
U8_LEVELS = 255


def encode_mask(mask: torch.Tensor, theory: ImageTheory) -> tuple[dict[str, Any], bytes]:
    """The mask's description for the header and its payload bytes."""
    if theory.unit == "channel":
        return {"encoding": "values", "values": [float(v) for v in mask.flatten()]}, b""
    plane = mask.reshape(mask.shape[-2], mask.shape[-1]).numpy()
    if theory.mask_kind == "binary":
        kept = plane != 0
        value = float(plane[kept][0]) if kept.any() else 0.0
        payload = zlib.compress(np.packbits(kept).tobytes(), 1)
        return {"encoding": "bits", "value": value}, payload
    low, high = theory.histogram_range
    levels = np.clip(np.rint((plane - low) * (U8_LEVELS / (high - low))), 0, U8_LEVELS)
    payload = zlib.compress(levels.astype(np.uint8).tobytes(), 1)
    return {"encoding": "u8", "low": low, "high": high}, payload


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
