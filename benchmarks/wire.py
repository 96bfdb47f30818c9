"""What one animation frame costs to encode and send, for several wire formats, in one run.

``python -m benchmarks.wire`` (or ``python -m benchmarks wire``). For the 512 x 512 astronaut
and the 451 x 300 cat, and for each dropout setting, every option encodes the same 20 frames
(iterations 0-19, seed 0), interleaved so that machine noise hits all options alike:

- (a) the output image ``picture x mask`` as PNG (Pillow's default compression),
- (b) the output image as JPEG, quality 85,
- (c) the output image as WebP, quality 80,
- (d) the mask as a 1-bit PNG (binary masks),
- (e) the mask as packed bits + zlib level 1: ``app.wire.encode_mask`` (binary masks),
- (f) the mask quantised to 256, 64 or 16 levels + zlib level 1 (Gaussian),
- (g) the mask quantised to 32 levels + Huffman-only deflate: ``app.wire.encode_mask``.

Options (a)-(c) time the whole step from the mask to the bytes (multiply, clamp, convert to
8-bit, encode); (d)-(f) from the mask to the bytes. "KB" is the mean size over the 20 frames
(1 KB = 1000 bytes), "ms" the median encode time. Then the full server time of one frame on
the 512 x 512 astronaut through the app's own code path (``image_theory``, ``image_frame``,
``wire.build_header``, ``wire.to_binary``), median of 50. Nothing is asserted: the figures
and the targets (at most 10 ms of server time and 40 KB per frame) are printed for people.
"""

from __future__ import annotations

import io
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from app import wire
from app.config import Settings
from app.images import ImageStore
from dropouts.lab.registry import ParamValue, get_method, validate_params
from dropouts.lab.views.image import VIEW as IMAGE
from dropouts.lab.views.image import image_frame, image_theory
from dropouts.lab.views.masks import MaskTheory

FRAMES = 20
SERVER_REPEATS = 50
TARGET_SERVER_MS = 10.0
TARGET_KB = 40.0
IMAGES = ("astronaut", "cat")


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    given: dict[str, str]

    def params(self) -> dict[str, ParamValue]:
        return validate_params(get_method(self.method), self.given)


CASES = (
    Case("standard p=0.1", "standard", {"p": "0.1"}),
    Case("standard p=0.5", "standard", {"p": "0.5"}),
    Case("cutout 96 x1", "cutout", {"size": "96", "n_holes": "1"}),
    Case("dropblock 0.2 b31", "dropblock", {"p": "0.2", "block_size": "31"}),
    Case("gaussian p=0.5", "gaussian", {"p": "0.5"}),
)

Encoder = Callable[[torch.Tensor], bytes]


def output_pixels(picture: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """What the browser would show: ``picture x mask`` clamped to [0, 1], as 8-bit HWC."""
    output = (picture * mask).clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    return output.permute(1, 2, 0).contiguous().numpy()


def image_encoder(picture: torch.Tensor, image_format: str, **options: object) -> Encoder:
    def encode(mask: torch.Tensor) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(output_pixels(picture, mask), "RGB").save(
            buffer, format=image_format, **options
        )
        return buffer.getvalue()

    return encode


def one_bit_png(mask: torch.Tensor) -> bytes:
    kept = mask.reshape(mask.shape[-2], mask.shape[-1]).numpy() != 0
    buffer = io.BytesIO()
    Image.fromarray(kept).save(buffer, format="PNG")  # a bool array is a mode "1" image
    return buffer.getvalue()


def wire_encoder(theory: MaskTheory) -> Encoder:
    def encode(mask: torch.Tensor) -> bytes:
        _, payload = wire.encode_mask(mask, theory)
        return payload

    return encode


def options_for(picture: torch.Tensor, case: Case, theory: MaskTheory) -> dict[str, Encoder]:
    options: dict[str, Encoder] = {
        "(a) output PNG": image_encoder(picture, "PNG"),
        "(b) output JPEG q85": image_encoder(picture, "JPEG", quality=85),
        "(c) output WebP q80": image_encoder(picture, "WEBP", quality=80),
    }
    if theory.mask_kind == "binary":
        options["(d) mask 1-bit PNG"] = one_bit_png
        options["(e) mask bits+zlib1"] = wire_encoder(theory)
    else:
        for levels in (256, 64, 16):
            options[f"(f) mask {levels} levels+zlib1"] = quantised(theory, levels)
        options[f"(g) mask {wire.REAL_LEVELS} levels+huff"] = wire_encoder(theory)
    return options


def quantised(theory: MaskTheory, levels: int) -> Encoder:
    """The mask as ``levels`` evenly spaced values on the histogram range, one byte each."""
    low, high = theory.histogram_range

    def encode(mask: torch.Tensor) -> bytes:
        plane = mask.reshape(mask.shape[-2], mask.shape[-1]).numpy()
        top = levels - 1
        index = np.clip(np.rint((plane - low) * (top / (high - low))), 0, top)
        return zlib.compress(index.astype(np.uint8).tobytes(), 1)

    return encode


def measure(
    options: dict[str, Encoder], masks: list[torch.Tensor]
) -> dict[str, tuple[float, float]]:
    """(mean KB, median ms) of each option over ``masks``, the options interleaved per mask."""
    for encode in options.values():  # warm up (first-call allocations, codec set-up)
        encode(masks[0])
    sizes: dict[str, list[int]] = {name: [] for name in options}
    times: dict[str, list[float]] = {name: [] for name in options}
    for mask in masks:
        for name, encode in options.items():
            start = time.perf_counter()
            data = encode(mask)
            times[name].append((time.perf_counter() - start) * 1e3)
            sizes[name].append(len(data))
    return {
        name: (statistics.fmean(sizes[name]) / 1000, statistics.median(times[name]))
        for name in options
    }


def server_frame_ms(picture: torch.Tensor, image_id: str, case: Case) -> tuple[float, float]:
    """Median ms and mean KB of one frame through the app's path (count=1, binary format)."""
    params = case.params()
    height, width = picture.shape[1:]
    context = {"method": case.method, "image": image_id, "width": width, "height": height}

    scene = IMAGE.scene(picture)

    def one(iteration: int) -> bytes:
        theory = IMAGE.theory(case.method, params, scene)
        frames = IMAGE.frames(
            case.method, params, 0, range(iteration, iteration + 1), scene, theory
        )
        header, payloads = wire.build_header(
            context | {"seed": 0, "params": params},
            IMAGE.theory_json(theory),
            frames,
            with_masks=True,
        )
        return wire.to_binary(header, payloads)

    one(0)
    times, sizes = [], []
    for iteration in range(SERVER_REPEATS):
        start = time.perf_counter()
        body = one(iteration)
        times.append((time.perf_counter() - start) * 1e3)
        sizes.append(len(body))
    return statistics.median(times), statistics.fmean(sizes) / 1000


def verdict(value: float, target: float) -> str:
    return "yes" if value <= target else "NO"


def main() -> None:
    torch.set_num_threads(2)  # as the CI machine and benchmarks.library
    store = ImageStore(Settings())
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, zlib "
        f"{zlib.ZLIB_VERSION}; {FRAMES} frames per row; KB = mean bytes / 1000, "
        "ms = median encode time"
    )
    print(f"targets: <= {TARGET_KB:g} KB per frame, <= {TARGET_SERVER_MS:g} ms server time")
    header = f"{'image':<19}{'setting':<19}{'option':<27}{'KB':>9}{'ms':>9}  <= {TARGET_KB:g} KB"
    print(header)
    print("-" * len(header))
    for image_id in IMAGES:
        picture = store.get(image_id).tensor
        height, width = picture.shape[1:]
        shape = f"{image_id} {width}x{height}"
        for case in CASES:
            params = case.params()
            theory = image_theory(case.method, params, height, width)
            masks = [
                image_frame(case.method, picture, params, 0, i, theory).mask for i in range(FRAMES)
            ]
            results = measure(options_for(picture, case, theory), masks)
            for option, (kb, ms) in results.items():
                print(
                    f"{shape:<19}{case.label:<19}{option:<27}{kb:>9.1f}{ms:>9.2f}"
                    f"  {verdict(kb, TARGET_KB)}"
                )
        print()

    print(
        f"server time of one frame (theory + frame + build_header + to_binary), "
        f"median of {SERVER_REPEATS}"
    )
    header = f"{'image':<19}{'setting':<19}{'ms':>9}{'KB':>9}  <= {TARGET_SERVER_MS:g} ms"
    print(header)
    print("-" * len(header))
    astronaut = store.get("astronaut").tensor
    for case in CASES:
        ms, kb = server_frame_ms(astronaut, "astronaut", case)
        shape = f"astronaut {astronaut.shape[2]}x{astronaut.shape[1]}"
        print(f"{shape:<19}{case.label:<19}{ms:>9.2f}{kb:>9.1f}  {verdict(ms, TARGET_SERVER_MS)}")


if __name__ == "__main__":
    main()
