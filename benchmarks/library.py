"""Image-level methods of ``dropouts`` against torch's own ops, on two tensor shapes.

Targets (issue 2): standard and Gaussian dropout at least 2x faster than
``torch.nn.functional.dropout`` on the same tensor; spatial dropout no slower than
``dropout2d``; Cutout and DropBlock no slower than ``dropout``. DropBlock is also compared
with torchvision's algorithm (max-pool expansion of the seeds), re-created here because
torchvision's wheel cannot be installed beside the pinned torch 2.13.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as TF

from dropouts import functional as F

from .timing import median_ms

SHAPES: tuple[tuple[int, ...], ...] = ((3, 512, 512), (1, 64, 128, 128))


def torchvision_style_dropblock(x: torch.Tensor, p: float, block_size: int) -> torch.Tensor:
    """torchvision.ops.drop_block2d's algorithm: seeds on the valid grid, max-pool, rescale."""
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    n, c, h, w = batched.shape
    gamma = p * h * w / (block_size**2 * (h - block_size + 1) * (w - block_size + 1))
    seeds = torch.empty((n, c, h - block_size + 1, w - block_size + 1)).bernoulli_(gamma)
    seeds = TF.pad(seeds, [block_size // 2] * 4, value=0)
    blocks = TF.max_pool2d(seeds, (block_size, block_size), stride=(1, 1), padding=block_size // 2)
    keep = 1 - blocks
    return (batched * keep * (keep.numel() / (1e-6 + keep.sum()))).view_as(x)


def cases(
    x: torch.Tensor,
) -> list[tuple[str, Callable[[], object], str, Callable[[], object], float]]:
    """(name, ours, reference name, reference, target speed-up ours vs reference)."""
    generator = torch.Generator().manual_seed(0)
    as_batch = x if x.dim() == 4 else x.unsqueeze(0)
    return [
        ("dropout p=0.5", lambda: F.dropout(x, 0.5, generator=generator),
         "F.dropout", lambda: TF.dropout(x, 0.5), 2.0),
        ("gaussian_dropout p=0.5", lambda: F.gaussian_dropout(x, 0.5, generator=generator),
         "F.dropout", lambda: TF.dropout(x, 0.5), 2.0),
        ("spatial_dropout p=0.5", lambda: F.spatial_dropout(x, 0.5, generator=generator),
         "F.dropout2d", lambda: TF.dropout2d(as_batch, 0.5), 1.0),
        ("cutout size=128 x4", lambda: F.cutout(x, 128, n_holes=4, generator=generator),
         "F.dropout", lambda: TF.dropout(x, 0.5), 1.0),
        ("dropblock p=0.1 bs=7", lambda: F.dropblock(x, 0.1, 7, generator=generator),
         "F.dropout", lambda: TF.dropout(x, 0.5), 1.0),
        ("dropblock p=0.1 bs=7", lambda: F.dropblock(x, 0.1, 7, generator=generator),
         "torchvision-style", lambda: torchvision_style_dropblock(x, 0.1, 7), 1.0),
    ]  # fmt: skip


def same_distribution_check(x: torch.Tensor) -> str:
    """Zero fraction of ours and torch's dropout at p = 0.5 (should agree to ~1e-3)."""
    ours = float((F.dropout(torch.ones_like(x), 0.5) == 0).float().mean())  # type: ignore[union-attr]
    theirs = float((TF.dropout(torch.ones_like(x), 0.5) == 0).float().mean())
    return f"zero fraction: ours {ours:.4f}, torch {theirs:.4f}"


def main() -> None:
    torch.set_num_threads(2)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}; "
        "median of interleaved runs, about 0.5 s per row"
    )
    header = (
        f"{'shape':<18}{'method':<24}{'ms':>8}  {'reference':<18}{'ms':>8}"
        f"{'speed-up':>10}{'target':>8}  ok"
    )
    print(header)
    print("-" * len(header))
    for shape in SHAPES:
        x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
        for name, ours, ref_name, reference, target in cases(x):
            times = median_ms({"ours": ours, "reference": reference})
            speed_up = times["reference"] / times["ours"]
            verdict = "yes" if speed_up >= target else "NO"
            print(
                f"{shape!s:<18}{name:<24}{times['ours']:>8.3f}  {ref_name:<18}"
                f"{times['reference']:>8.3f}{speed_up:>9.2f}x{target:>7.1f}x  {verdict}"
            )
        print(f"{shape!s:<18}{same_distribution_check(x)}")
