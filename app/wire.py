"""The wire format of frames and scenes: masks, not pictures; one container for every view.

The browser already holds the picture (or, for the feature-map and pooling views, the maps it
fetched once from ``/api/scene``), so a frame only needs its mask and a few numbers; the
browser composites ``maps x mask`` itself. Measured on the 512 x 512 astronaut (``make bench``),
a packed-bit mask is 4-40 KB and costs well under a millisecond, where a PNG of the output
costs 20-70 ms and 300-450 KB and a JPEG about 1-2 ms and 60-130 KB (blurred edges, wrong
pixels).

Array encodings (each array's description carries ``encoding`` and, but for ``values``, its
``shape`` ``[C, H, W]``):

- ``bits``: a mask of zeros and one kept value, one bit per unit, row-major over ``shape``,
  most significant bit first (``numpy.packbits``), then zlib-deflated. Units with bit 1 are
  multiplied by ``value``; the others by 0.
- ``levels``: a real-valued mask (Gaussian noise) quantised to ``levels`` values evenly spaced
  on ``[low, high]`` (level ``k`` is ``low + k (high - low) / (levels - 1)``), one byte per
  unit, deflated with Huffman coding only. Noise does not compress: its size is set by the
  number of levels (entropy about log2(levels / 8 * 4.13) bits per unit over 1 +- 4 sigma).
  Measured on 512 x 512 (``make bench``): 256 levels 233 KB, 64 levels 167 KB, 32 levels
  133 KB, 16 levels 99 KB. The image view sends 32 levels (steps of sigma / 4, which look the
  same as 256 on screen); the feature-map view 16 (8 maps of 128 x 128 stay under 60 KB).
  Statistics and histograms are computed on the exact mask.
- ``values``: a handful of per-channel factors, inline in the header.
- ``bytes``: non-negative values for display (feature maps), one byte per unit, deflated;
  byte ``k`` of channel ``c`` stands for ``k / 255 * scale[c]``.
- ``json``: structured drawing data inline as ``value`` (the dense view's network pass).

Each view's payload (``GET /api/frames?view=…``; the header also names ``view``, ``method``,
``seed``, ``params`` and ``theory``; every frame has its ``iteration``):

- ``image``: per frame ``dropped_fraction``, ``mask_mean``, ``mask_variance``,
  ``output_mean_ratio``, ``histogram`` (over ``theory.histogram_edges``), ``p_t`` (stochastic
  dropout) and ``mask``: ``bits`` or ``levels`` of shape ``[1, H, W]`` (one factor per pixel,
  shared by its colours), or ``values`` (spatial dropout: one factor per colour channel).
  The header's ``width`` and ``height`` are the picture's.
- ``feature_maps``: the same statistics over the pooled maps' activations, ``mask`` of shape
  ``[C, h, w]`` (``[1, h, w]`` for Cutout, the same holes on every map; ``values``, one per map,
  for spatial dropout) and, for Max-Drop, ``maxima_dropped`` (per map, whether its maximum
  went). The maps themselves come from ``/api/scene?view=feature_maps`` as ``maps`` (``bytes``,
  ``[C, h, w]``), with the filters, their kernels and labels in the scene's header.
- ``pooling``: per frame ``dropped_fraction``, ``changed_fraction`` (windows whose winner is
  not the plain max), ``winners`` and ``ranks`` (per window: the winning unit in reading order
  and its rank, -1 and 0 when every unit was dropped), ``outputs``, ``rank_counts``,
  ``mc_mean`` (the running mean of the outputs over iterations 0..i), ``mc_rms_error`` and
  ``mc_rms_expected``, and ``mask``: ``bits`` of shape ``[1, 24, 24]`` on the zoomed square.
  The theory holds each window's rank order, plain max, weighted pooling and scaled max, and
  Wu & Gu's ``rank_probability``. The scene holds each map's zoomed square (values inline)
  and where it lies in the map before pooling.

- ``dense``: per frame ``dropped_fraction`` (of the hidden neurons; of the connections into
  hidden layers for DropConnect), ``output`` (the class probabilities of this sub-network),
  and as ``json`` arrays ``pass`` (per layer the drawn neurons' ``values``, ``before`` the
  method, ``mask`` and Standout's ``keep``; per hidden layer DropConnect's ``connections``
  mask) and ``strip`` (the same masks for the last 8 iterations). The theory holds the
  network (sizes, drawn weights, activation, the input example), the test-time pass, the
  ensemble mean over sampled sub-networks (and exactly over all of them when small), and the
  method's panel: DropConnect's ``dropconnect_unit`` (sampled pre-activations against Wan et al.'s
  Gaussian) or AlphaDropout's ``histograms``. No scene.

- ``uncertainty`` (Monte Carlo dropout on a network trained in the server): each frame is one
  estimate from its own ``T`` passes (drawn from the seed and the iteration; pass t does not
  depend on T). Per frame ``dropped_fraction`` (over all T passes' masks). Regression:
  ``probe_mean`` and ``probe_std`` (predictive sd, τ⁻¹ included) at ``theory.probes.x``,
  ``std_data``, ``std_gap``, ``std_beyond`` (averaged over the grid's parts),
  ``batch_norm_train_error``; arrays ``passes`` (``bytes`` ``[1, S, G]``: the first S ≤ 100
  passes on the G = 200 grid points, as ``y − theory.y_range[0]``), and as ``json`` ``band``
  (``mean`` and ``std`` per grid point), ``batch_norm_train`` (the same with BatchNorm in
  training mode) and ``running`` (``mean`` and ``std`` over passes 1…t at the two
  ``theory.probes.running`` points). Classification: ``entropy_*`` and
  ``mutual_information_*`` averaged over the regions ``data`` (the training points),
  ``between`` (the classes) and ``far`` (from the data), ``batch_norm_train_error``; arrays
  ``maps`` (``bytes`` ``[3, G, G]``: averaged P(class 1), predictive entropy, mutual
  information; row 0 is y_min), ``batch_norm_train`` (``bytes`` ``[1, G, G]``, P(class 1))
  and ``running`` (``json``: entropy and mutual information over passes 1…t at ``point``).
  The theory holds the data, τ (regression), the deterministic network's answer, and a
  reference from 10,000 (2,000) passes of its own stream with each number's expectation at
  this T. No scene.

- ``compression`` (sparse VD or structured BP on a network trained in the server): iteration i
  is checkpoint i of the run (0: as initialised, 99: trained; ``start + count`` at most 100),
  pruned at the threshold (the method's ``threshold`` on log α, or the view's ``snr`` for
  structured BP). Per frame ``step``, ``epoch``, ``kl_weight``, ``data_term``, ``kl_term``,
  ``loss`` (null at step 0), ``pruned_share`` (of the weights; biases not counted),
  ``dropped_fraction`` (the weights, or structured BP's neurons that feed a layer),
  ``accuracy_before`` and ``accuracy_after`` pruning, ``baseline_accuracy`` (the dense network
  at the same step), ``compression`` (weights / kept weights; null when none is kept),
  ``weights``, ``weights_kept``, ``widths_before``, ``widths_after``, ``layer_kept`` and
  ``layer_weights`` (per layer); arrays per layer k ``weights_k`` (``levels`` ``[1, out, in]``,
  255 levels on ±``theory.weight_scale[k]``, clipped: sparse VD's θ, structured BP's weights
  times the E[θ] of their input) and ``kept_k`` (``bits`` ``[1, out, in]``: exactly the weights
  with log α below the threshold; structured BP: between two neurons above the SNR threshold),
  and as ``json`` ``histograms`` (per layer the counts over ``theory.histogram_edges`` of the
  weights' log α, or of the input neurons' −2 log SNR), ``alive`` (per layer of neurons,
  inputs to outputs, 1 when still in use) and, for structured BP, ``neurons`` (per layer
  ``log_alpha`` and ``kept``). The theory holds the setting, the data set, ``sizes``, ``line``
  (the threshold on the histogram's axis), the trained network's figures at the threshold
  (``final``) and the accuracy-sparsity ``curve`` over thresholds; its
  ``expected_dropped_fraction`` is null (the iterations are checkpoints of one run, not draws).
  The same run streams from ``GET /api/train?view=compression``. No scene.

- ``lstm`` (the recurrent dropouts on a toy LSTM of ``units`` units over a ``length``-step
  sequence; each iteration a new sequence and new masks, from the seed and the iteration): per
  frame ``dropped_fraction`` (of all the method's mask entries; zoneout: the share held at its
  previous value), ``step_fractions`` (the same per time step), ``changed_fraction`` (entries
  whose mask differs from the step before: 0 for a per-sequence mask), ``constant`` (every mask
  the same at every step), ``masks`` (the same four per mask key, with ``acts_on``: x, h, g or
  c), ``naive`` (the four for the naive reference: a new 0/1 mask on c at every step at the
  method's p, zoneout's z_c), ``deviation`` and ``naive_deviation`` (RMS of the cell state from
  its path without dropout) and ``symbols``; arrays ``x`` (``bits`` ``[1, 4, T]``: the one-hot
  sequence), ``mask_<key>`` per mask of the method (``bits`` ``[1, rows, T]``, a row per unit
  and a column per step; bit 1 is a kept unit, multiplied by ``value``, except zoneout's
  ``mask_zoneout_c`` and ``mask_zoneout_h`` where bit 1 is a unit held at its previous value),
  ``naive_mask`` (the same for the reference) and as ``json`` ``cells`` (``units`` and, per
  unit, the cell state over time ``none``, ``method`` and ``naive``). The theory holds the
  setting, each mask's place (``masks``: key, ``acts_on``, ``per`` sequence or step,
  ``probability``, ``kept_value``, ``meaning`` dropped or held, ``label``, ``rows``), the
  ``naive`` reference's, the expected fractions, ``output_scale`` (RNNDrop's 1/(1-p) on the
  layer output), the table of ``modes`` with their equations and the toy LSTM's constants. No
  scene. The memory task streams from ``GET /api/train?view=lstm`` (app/routes/training.py).

- ``residual`` (DropPath on a stack of ``blocks`` residual blocks; a batch of ``batch``
  patches of the picture): per frame ``dropped_fraction`` (of the ``batch`` x ``blocks``
  branches), ``depth_mean`` (surviving branches per sample, averaged over the batch),
  ``depth_first`` (sample 1's), ``output_change`` (|train - test| / |test| of H_L, averaged over
  the batch) and ``kept_per_block`` (per block the share of the batch whose branch survived);
  as ``json`` arrays ``gates`` (per sample, per block the factor its branch was multiplied by:
  0 dropped, 1 / s_l kept; the rows are equal in batch mode) and ``samples`` (per sample its
  ``depth``, ``change`` and ``output``: |H_L| over the channels, ``side`` x ``side`` bytes
  row-major in base64, 255 at the test output's maximum, clipped). The theory holds the
  setting, ``survival`` (s_l), ``drop``, ``train_factor`` (1 / s_l, null when s_l = 0),
  ``test_factor`` (1: identity), ``expected_depth`` (sum of s_l) and ``depth_sd``, the
  test-time outputs (``test.outputs``, the same bytes) and ``ensemble`` (the mean of
  ``passes`` training passes against the test network: ``change`` per sample, ``single`` the
  mean deviation of one pass). The scene holds where each sample lies in the picture
  (``samples``: top, left, height, width as fractions) and the sizes.

The binary container (``application/x-dropout-frames``): the 4 bytes ``DLF1``, a little-endian
uint32 header length, the UTF-8 JSON header, then the payloads; each array's ``offset`` and
``length`` locate its bytes after the header. ``format=json`` puts the payloads inline, in
base64, instead.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import numpy as np
import torch

from dropouts.lab.views.base import (
    Array,
    BinaryArray,
    ByteArray,
    Frame,
    JsonArray,
    LevelArray,
    Scene,
    ValueArray,
)
from dropouts.lab.views.masks import REAL_LEVELS, MaskTheory, mask_array

MAGIC = b"DLF1"
MEDIA_TYPE = "application/x-dropout-frames"

__all__ = ["MAGIC", "MEDIA_TYPE", "REAL_LEVELS", "encode_array", "encode_mask"]


def _huffman_deflate(data: bytes) -> bytes:
    """A zlib stream with Huffman coding only: as small as level 9 for noise, and fast."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def _shape(tensor: torch.Tensor) -> list[int]:
    """``[C, H, W]`` of a mask or map tensor (a 2-D one is one channel)."""
    shape = list(tensor.shape)
    return [1, *shape] if len(shape) == 2 else shape[-3:]


def encode_array(array: Array) -> tuple[dict[str, Any], bytes]:
    """An array's description for the header and its payload bytes (empty when inline)."""
    if isinstance(array, ValueArray):
        return {"encoding": "values", "values": list(array.values)}, b""
    if isinstance(array, JsonArray):
        return {"encoding": "json", "value": array.value}, b""
    shape = _shape(array.tensor)
    if isinstance(array, BinaryArray):
        plane = array.tensor.reshape(-1).numpy()
        kept = plane != 0
        first = int(np.argmax(kept))  # the kept value, without copying every kept unit
        value = float(plane[first]) if kept[first] else 0.0
        payload = zlib.compress(np.packbits(kept).tobytes(), 1)
        return {"encoding": "bits", "value": value, "shape": shape}, payload
    if isinstance(array, LevelArray):
        top = array.levels - 1
        scaled = (array.tensor.reshape(-1).numpy() - array.low) * (top / (array.high - array.low))
        levels = np.clip(np.rint(scaled), 0, top).astype(np.uint8)
        description = {
            "encoding": "levels",
            "low": array.low,
            "high": array.high,
            "levels": array.levels,
            "shape": shape,
        }
        return description, _huffman_deflate(levels.tobytes())
    if isinstance(array, ByteArray):
        values = array.tensor.reshape(shape[0], -1).double()
        scale = values.amax(dim=1).clamp(min=0.0)
        safe = torch.where(scale > 0, scale, torch.ones_like(scale))
        quantised = (values.clamp(min=0.0) / safe[:, None] * 255).round().to(torch.uint8)
        payload = zlib.compress(quantised.numpy().tobytes(), 6)
        return {"encoding": "bytes", "scale": scale.tolist(), "shape": shape}, payload
    raise TypeError(f"cannot encode {type(array).__name__}")


def encode_mask(mask: torch.Tensor, theory: MaskTheory) -> tuple[dict[str, Any], bytes]:
    """A mask of the image or feature-map view as it travels (see :func:`encode_array`)."""
    return encode_array(mask_array(mask, theory))


def _with_arrays(
    entry: dict[str, Any], arrays: dict[str, Array], payloads: list[bytes], offset: int
) -> int:
    """Describe ``arrays`` into ``entry``, append their payloads; the next offset."""
    for name, array in arrays.items():
        description, payload = encode_array(array)
        if payload:
            description |= {"offset": offset, "length": len(payload)}
            offset += len(payload)
            payloads.append(payload)
        entry[name] = description
    return offset


def build_header(
    context: dict[str, Any], theory: dict[str, Any], frames: list[Frame], *, with_masks: bool
) -> tuple[dict[str, Any], list[bytes]]:
    """The JSON header (context, theory, per-frame stats) and the array payloads in order."""
    payloads: list[bytes] = []
    frame_headers = []
    offset = 0
    for frame in frames:
        entry: dict[str, Any] = {"iteration": frame.iteration, **frame.stats}
        if with_masks:
            offset = _with_arrays(entry, frame.arrays, payloads, offset)
        frame_headers.append(entry)
    return context | {"theory": theory, "frames": frame_headers}, payloads


def build_scene(context: dict[str, Any], scene: Scene) -> tuple[dict[str, Any], list[bytes]]:
    """A view's scene: what it draws once per input (the feature maps, the kernels…)."""
    payloads: list[bytes] = []
    arrays: dict[str, Any] = {}
    _with_arrays(arrays, scene.arrays, payloads, 0)
    return context | scene.info | {"arrays": arrays}, payloads


def to_binary(header: dict[str, Any], payloads: list[bytes]) -> bytes:
    encoded = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join([MAGIC, struct.pack("<I", len(encoded)), encoded, *payloads])


def _inline(entry: dict[str, Any], remaining: Any) -> dict[str, Any]:
    """``entry`` with every located array's bytes inline as ``data`` (base64)."""
    out = dict(entry)
    for name, value in entry.items():
        if isinstance(value, dict) and "offset" in value and "length" in value:
            array = {k: v for k, v in value.items() if k not in ("offset", "length")}
            array["data"] = base64.b64encode(next(remaining)).decode()
            out[name] = array
    return out


def to_json(header: dict[str, Any], payloads: list[bytes]) -> dict[str, Any]:
    """The same content with each payload inline as ``data`` (base64)."""
    remaining = iter(payloads)
    if "frames" in header:
        return header | {"frames": [_inline(frame, remaining) for frame in header["frames"]]}
    return header | {"arrays": _inline(header.get("arrays", {}), remaining)}
