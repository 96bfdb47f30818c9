"""app.wire: mask encodings that round-trip, and the binary / JSON containers."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import numpy as np
import pytest
import torch
from stats import seeded

from app import wire
from dropouts.lab.registry import get_method, validate_params
from dropouts.lab.views.image import VIEW as IMAGE
from dropouts.lab.views.image import ImageTheory, histogram_edges, image_frame, image_theory

# 451 x 300 (the cat): 135,300 pixels, not a multiple of 8, so the last byte is padded.
HEIGHT, WIDTH = 300, 451
PICTURE = torch.rand(3, HEIGHT, WIDTH, generator=seeded(42))


def setting(method_id: str, **given: object) -> tuple[dict[str, object], ImageTheory]:
    params = validate_params(get_method(method_id), {k: str(v) for k, v in given.items()})
    return params, image_theory(method_id, params, HEIGHT, WIDTH)


def unpack_bits(payload: bytes, height: int, width: int) -> np.ndarray:
    packed = np.frombuffer(zlib.decompress(payload), dtype=np.uint8)
    assert packed.size == (height * width + 7) // 8
    return np.unpackbits(packed)[: height * width].reshape(height, width).astype(bool)


def dequantise(payload: bytes, low: float, high: float, count: int) -> np.ndarray:
    levels = np.frombuffer(zlib.decompress(payload), dtype=np.uint8).astype(np.float64)
    assert levels.max() <= count - 1
    return low + levels * (high - low) / (count - 1)


@pytest.mark.parametrize(
    ("method_id", "given"),
    [
        ("standard", {"p": 0.1}),
        ("standard", {"p": 0.5}),
        ("standard", {"p": 0.7, "scaling": "original"}),
        ("cutout", {"size": 96, "n_holes": 2}),
        ("dropblock", {"p": 0.2, "block_size": 31}),
        ("stochastic", {"mu": 0.3, "sigma": 0.1}),
    ],
)
def test_bits_round_trip_exactly(method_id: str, given: dict[str, object]) -> None:
    params, theory = setting(method_id, **given)
    for iteration in range(3):
        mask = image_frame(method_id, PICTURE, params, 1, iteration, theory).mask
        description, payload = wire.encode_mask(mask, theory)
        assert description["encoding"] == "bits"
        kept = unpack_bits(payload, HEIGHT, WIDTH)
        decoded = kept * np.float32(description["value"])
        np.testing.assert_array_equal(decoded.astype(np.float32), mask[0].numpy())
        # The kept value is the mask's one non-zero value, sent exactly.
        nonzero = mask[mask != 0]
        assert bool((nonzero == description["value"]).all())


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_bits_of_constant_masks(p: float) -> None:
    params, theory = setting("standard", p=p)
    mask = image_frame("standard", PICTURE, params, 0, 0, theory).mask
    description, payload = wire.encode_mask(mask, theory)
    kept = unpack_bits(payload, HEIGHT, WIDTH)
    assert bool(kept.all()) if p == 0.0 else not kept.any()
    assert description["value"] == (1.0 if p == 0.0 else 0.0)


def test_bits_are_row_major_most_significant_bit_first() -> None:
    theory = ImageTheory("pixel", "binary", 0.5, 1.0, 0.25, 1.0, (0.0, 1.0))
    mask = torch.zeros(1, 3, 5)
    mask[0, 0, 0] = mask[0, 1, 2] = mask[0, 2, 4] = 1.0  # flat indices 0, 7, 14
    _, payload = wire.encode_mask(mask, theory)
    assert zlib.decompress(payload) == bytes([0b1000_0001, 0b0000_0010])


@pytest.mark.parametrize(("p", "sigma"), [(0.5, None), (0.1, None), (0.5, 0.2), (0.5, 3.0)])
def test_real_masks_are_half_a_level_off_at_most(p: float, sigma: float | None) -> None:
    given: dict[str, object] = {"p": p} if sigma is None else {"p": p, "sigma": sigma}
    params, theory = setting("gaussian", **given)
    mask = image_frame("gaussian", PICTURE, params, 2, 5, theory).mask
    description, payload = wire.encode_mask(mask, theory)
    assert description["encoding"] == "levels"
    assert description["levels"] == wire.REAL_LEVELS
    low, high = description["low"], description["high"]
    assert (low, high) == theory.histogram_range
    assert low < 1.0 < high
    decoded = dequantise(payload, low, high, description["levels"])
    assert decoded.size == HEIGHT * WIDTH
    values = mask[0].numpy().astype(np.float64).reshape(-1)
    decoded = decoded.reshape(-1)
    step = (high - low) / (wire.REAL_LEVELS - 1)
    inside = (values >= low) & (values <= high)
    assert inside.mean() > 0.99
    assert np.abs(decoded[inside] - values[inside]).max() <= step / 2 * (1 + 1e-6)
    # Outside the range the value is clipped to the nearer bound.
    np.testing.assert_array_equal(decoded[values < low], low)
    np.testing.assert_array_equal(decoded[values > high], high)


def test_real_masks_clip_values_outside_the_range() -> None:
    theory = ImageTheory("pixel", "real", 0.0, 1.0, 1.0, 1.0, (-1.0, 3.0))
    mask = torch.tensor([[[-5.0, -1.0, 1.0, 3.0, 9.0]]])
    _, payload = wire.encode_mask(mask, theory)
    top = wire.REAL_LEVELS - 1
    middle = round(top / 2)  # 1.0 is half-way: rounded to the even level, as numpy.rint does
    assert list(zlib.decompress(payload)) == [0, 0, middle, top, top]


@pytest.mark.parametrize("scaling", ["inverted", "original"])
def test_channel_masks_are_inline_values(scaling: str) -> None:
    params, theory = setting("spatial", p=0.5, scaling=scaling)
    for iteration in range(6):
        mask = image_frame("spatial", PICTURE, params, 0, iteration, theory).mask
        description, payload = wire.encode_mask(mask, theory)
        assert payload == b""
        assert description == {"encoding": "values", "values": mask.flatten().tolist()}
        assert len(description["values"]) == 3


def test_containers_locate_every_payload_and_agree() -> None:
    params, theory = setting("standard", p=0.3)
    frames = IMAGE.frames("standard", params, 9, range(4), IMAGE.scene(PICTURE), theory)
    context = {"method": "standard", "image": "test", "width": WIDTH, "height": HEIGHT}
    theory_json = IMAGE.theory_json(theory)
    header, payloads = wire.build_header(context, theory_json, frames, with_masks=True)
    assert header["theory"]["histogram_edges"] == histogram_edges(theory)
    assert len(header["theory"]["histogram_edges"]) == len(frames[0].stats["histogram"]) + 1
    body = wire.to_binary(header, payloads)
    assert body[:4] == wire.MAGIC == b"DLF1"
    (length,) = struct.unpack("<I", body[4:8])
    parsed = json.loads(body[8 : 8 + length])
    data = body[8 + length :]
    assert parsed == json.loads(json.dumps(header))
    assert len(data) == sum(len(p) for p in payloads)
    offset = 0
    inline = wire.to_json(header, payloads)
    for frame, payload, json_frame in zip(
        parsed["frames"], payloads, inline["frames"], strict=True
    ):
        mask = frame["mask"]
        assert mask["offset"] == offset  # contiguous, in order
        assert data[mask["offset"] : mask["offset"] + mask["length"]] == payload
        offset += mask["length"]
        assert "offset" not in json_frame["mask"] and "length" not in json_frame["mask"]
        assert base64.b64decode(json_frame["mask"]["data"]) == payload
    # Statistics only: no payloads, no mask descriptions.
    header, payloads = wire.build_header(context, theory_json, frames, with_masks=False)
    assert payloads == []
    assert all("mask" not in frame for frame in header["frames"])
    assert len(wire.to_binary(header, payloads)) == 8 + len(
        json.dumps(header, separators=(",", ":"))
    )
