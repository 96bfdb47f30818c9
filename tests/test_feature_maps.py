"""The convolutional stage (dropouts.lab.views.features) and the feature-map view.

The maps must be what the filters compute: known patterns give known responses (a step edge at
the filter's angle answers exactly 1, a flat picture answers 0). The view's masks must be the
library's for the same generator, with the statistics the theory predicts (bounds from the
sampling distribution, tests/stats.py).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as TF
from stats import assert_binomial_fraction, assert_mean, seeded

from dropouts import functional as F
from dropouts.lab import expectations
from dropouts.lab.registry import FILTER_IDS, ParamValue, get_method, methods_with_view
from dropouts.lab.registry import validate_params as validate
from dropouts.lab.views import BUILT
from dropouts.lab.views.base import BinaryArray, LevelArray, ValueArray, frame_generator
from dropouts.lab.views.feature_maps import FEATURE_MAP_METHODS
from dropouts.lab.views.feature_maps import VIEW as MAPS
from dropouts.lab.views.features import STAGE_SIDE, convolve, filter_bank, run_stage, stage_size

SIZE = 41  # odd, so that the kernel centre sits on a pixel
PICTURE = torch.rand(3, 150, 200, generator=seeded(7))
SCENE = MAPS.scene(PICTURE)


def params(method_id: str, **given: object) -> dict[str, ParamValue]:
    return validate(get_method(method_id), {k: str(v) for k, v in given.items()})


def grey(plane: torch.Tensor) -> torch.Tensor:
    """A grey RGB picture from one plane in [0, 1] (luminance = the plane)."""
    return plane.expand(3, *plane.shape).clone()


# ---------------------------------------------------------------- the filter bank


def test_the_bank_is_the_registry_filters_with_unit_positive_mass() -> None:
    bank = filter_bank()
    assert tuple(f.id for f in bank) == FILTER_IDS
    for f in bank:
        assert f.kernel.shape[0] == 3 and f.kernel.shape[1] == f.kernel.shape[2]
        assert 3 <= f.kernel.shape[-1] <= 7
        assert float(f.kernel.clamp(min=0).sum()) == pytest.approx(1.0)
    for f in bank:
        if f.id.startswith(("edge", "centre")):  # zero-mean: a flat picture gives nothing
            assert float(f.kernel.sum()) == pytest.approx(0.0, abs=1e-12)


def test_a_flat_picture_gives_no_edge_or_spot_and_the_colour_opponents_its_colour() -> None:
    flat = torch.empty(3, SIZE, SIZE)
    flat[0], flat[1], flat[2] = 0.9, 0.3, 0.1  # orange
    responses = convolve(flat)
    by_id = dict(zip(FILTER_IDS, responses, strict=True))
    for filter_id in FILTER_IDS:
        if filter_id.startswith(("edge", "centre")):
            assert float(by_id[filter_id].abs().max()) < 1e-5, filter_id
    # Replicated borders: the whole map is the colour difference, edges included.
    assert torch.allclose(by_id["red_green"], torch.full((SIZE, SIZE), 0.9 - 0.3), atol=1e-5)
    assert torch.allclose(by_id["yellow_blue"], torch.full((SIZE, SIZE), 0.6 - 0.1), atol=1e-5)


@pytest.mark.parametrize("angle", [0, 45, 90, 135])
def test_an_edge_filter_answers_a_step_edge_at_its_angle(angle: int) -> None:
    """A step rising in the direction ``angle`` through the centre: the filter of that angle
    answers exactly 1 there (its whole positive mass on ones, its negative mass on zeros)."""
    offsets = torch.arange(SIZE, dtype=torch.float64) - SIZE // 2
    x, y = offsets[None, :], offsets[:, None]
    along = x * math.cos(math.radians(angle)) - y * math.sin(math.radians(angle))
    picture = grey((along > 1e-9).float())
    responses = convolve(picture)[:4, SIZE // 2, SIZE // 2]  # the four edge filters
    by_angle = dict(zip((0, 45, 90, 135), responses.tolist(), strict=True))
    assert by_angle[angle] == pytest.approx(1.0, abs=1e-5)
    for other, response in by_angle.items():
        if other != angle:
            assert response < by_angle[angle] - 0.2, (other, response)
    # The opposite step (falling that way) gives a negative response, which the ReLU removes.
    falling = convolve(1.0 - picture)[FILTER_IDS.index(f"edge_{angle}"), SIZE // 2, SIZE // 2]
    assert float(falling) == pytest.approx(-1.0, abs=1e-5)


def test_spot_filters_answer_a_spot_of_their_polarity() -> None:
    dark = torch.zeros(SIZE, SIZE)
    dark[SIZE // 2, SIZE // 2] = 1.0
    bright_spot, dark_spot = grey(dark), grey(1.0 - dark)
    on, off = FILTER_IDS.index("centre_on"), FILTER_IDS.index("centre_off")
    centre = (SIZE // 2, SIZE // 2)
    for picture, answers, silent in ((bright_spot, on, off), (dark_spot, off, on)):
        responses = convolve(picture)
        assert float(responses[answers][centre]) > 0.3
        assert divmod(int(responses[answers].argmax()), SIZE) == centre
        assert float(responses[silent][centre]) < 0  # the ReLU will remove it


def test_the_stage_is_resize_conv_relu_pool() -> None:
    stage = run_stage(PICTURE)
    height, width = stage_size(150, 200)
    assert max(height, width) == STAGE_SIDE and (height, width) == (192, 256)
    assert stage.picture.shape == (3, height, width)
    assert torch.equal(stage.responses, convolve(stage.picture))
    assert torch.equal(stage.activations, TF.relu(stage.responses))
    assert torch.equal(stage.maps, TF.max_pool2d(stage.activations, 2))
    assert stage.maps.shape == (len(FILTER_IDS), height // 2, width // 2)
    assert float(stage.maps.min()) >= 0.0


def test_the_scene_describes_the_filters_and_each_maps_peak() -> None:
    info = SCENE.info
    maps = SCENE.data
    assert (info["channels"], info["height"], info["width"]) == tuple(maps.shape)
    assert [f["id"] for f in info["filters"]] == list(FILTER_IDS)
    for c, (row, column) in enumerate(info["peaks"]):
        assert float(maps[c, row, column]) == float(maps[c].max())


# ---------------------------------------------------------------- the view's masks


def test_feature_map_methods_are_the_registry_methods_with_that_view() -> None:
    declared = {m.id for m in methods_with_view("feature_maps")}
    assert set(FEATURE_MAP_METHODS) == declared
    assert BUILT["feature_maps"] is MAPS
    with pytest.raises(KeyError, match="no feature_maps view"):
        MAPS.theory("dropconnect", {}, SCENE)


LIBRARY_CALLS = {
    "standard": lambda x, g: F.dropout(x, 0.3, generator=g, return_mask=True),
    "gaussian": lambda x, g: F.gaussian_dropout(x, 0.3, generator=g, return_mask=True),
    "spatial": lambda x, g: F.spatial_dropout(x, 0.3, generator=g, return_mask=True),
    "dropblock": lambda x, g: F.dropblock(x, 0.3, 5, generator=g, return_mask=True),
    "maxdrop": lambda x, g: F.max_drop(
        x, 0.3, mode="channel", window=3, generator=g, return_mask=True
    ),
}
GIVEN: dict[str, dict[str, object]] = {
    "standard": {"p": 0.3},
    "gaussian": {"p": 0.3},
    "spatial": {"p": 0.3},
    "dropblock": {"p": 0.3, "block_size": 5},
    "maxdrop": {"p": 0.3, "mode": "channel", "window": 3},
}


@pytest.mark.parametrize("method_id", sorted(LIBRARY_CALLS))
def test_the_mask_is_the_librarys_for_the_same_generator(method_id: str) -> None:
    chosen = params(method_id, **GIVEN[method_id])
    theory = MAPS.theory(method_id, chosen, SCENE)
    for iteration in (0, 3):
        frame = MAPS.frame(method_id, chosen, 11, iteration, SCENE, theory)
        result = LIBRARY_CALLS[method_id](SCENE.data, frame_generator(11, iteration))
        assert isinstance(result, tuple)
        array = frame.arrays["mask"]
        if isinstance(array, ValueArray):
            assert array.values == tuple(result[1].flatten().tolist())
        else:
            assert isinstance(array, BinaryArray | LevelArray)
            assert torch.equal(array.tensor, result[1].expand_as(array.tensor).float())


@pytest.mark.parametrize(
    ("method_id", "shape"),
    [("standard", (8, 96, 128)), ("spatial", (8, 1, 1)), ("cutout", (1, 96, 128))],
)
def test_units_are_activations_maps_or_shared_holes(method_id: str, shape: tuple[int, ...]) -> None:
    chosen = params(method_id)
    theory = MAPS.theory(method_id, chosen, SCENE)
    assert theory.unit == ("map" if method_id == "spatial" else "activation")
    frame = MAPS.frame(method_id, chosen, 0, 1, SCENE, theory)
    array = frame.arrays["mask"]
    if isinstance(array, ValueArray):
        assert (len(array.values), 1, 1) == shape
    else:
        assert isinstance(array, BinaryArray)
        assert tuple(array.tensor.shape) == shape


def test_spatial_dropout_drops_whole_maps_binomially() -> None:
    chosen = params("spatial", p=0.4)
    theory = MAPS.theory("spatial", chosen, SCENE)
    frames = [MAPS.frame("spatial", chosen, 5, i, SCENE, theory) for i in range(400)]
    dropped = 0
    for frame in frames:
        array = frame.arrays["mask"]
        assert isinstance(array, ValueArray)
        assert all(v == 0.0 or v == pytest.approx(1 / 0.6) for v in array.values)
        dropped += sum(v == 0 for v in array.values)
    assert_binomial_fraction(dropped, 400 * 8, 0.4)


def test_dropblock_draws_its_blocks_on_each_map_independently() -> None:
    chosen = params("dropblock", p=0.3, block_size=7)
    theory = MAPS.theory("dropblock", chosen, SCENE)
    frame = MAPS.frame("dropblock", chosen, 0, 0, SCENE, theory)
    array = frame.arrays["mask"]
    assert isinstance(array, BinaryArray)
    patterns = {tuple((array.tensor[c] == 0).flatten().tolist()) for c in range(8)}
    assert len(patterns) == 8
    fractions = torch.tensor(
        [
            MAPS.frame("dropblock", chosen, 0, i, SCENE, theory).stats["dropped_fraction"]
            for i in range(60)
        ]
    )
    assert_mean(fractions, theory.expected_dropped_fraction)


def test_cutout_cuts_the_same_holes_in_every_map() -> None:
    chosen = params("cutout", size=20, n_holes=2)
    theory = MAPS.theory("cutout", chosen, SCENE)
    assert theory.expected_dropped_fraction == pytest.approx(
        expectations.cutout_dropped_fraction(20, 2, 96, 128)
    )
    fractions = torch.tensor(
        [
            MAPS.frame("cutout", chosen, 3, i, SCENE, theory).stats["dropped_fraction"]
            for i in range(200)
        ]
    )
    assert_mean(fractions, theory.expected_dropped_fraction)


@pytest.mark.parametrize(
    ("mode", "window"), [("feature", 1), ("feature", 5), ("channel", 1), ("channel", 3)]
)
def test_max_drop_expected_fraction_is_exact(mode: str, window: int) -> None:
    chosen = params("maxdrop", p=0.6, mode=mode, window=window)
    theory = MAPS.theory("maxdrop", chosen, SCENE)
    fractions = torch.tensor(
        [
            MAPS.frame("maxdrop", chosen, 9, i, SCENE, theory).stats["dropped_fraction"]
            for i in range(300)
        ]
    )
    assert_mean(fractions, theory.expected_dropped_fraction)
    if mode == "channel" and window == 1:  # one channel per position, with probability p
        assert theory.expected_dropped_fraction == pytest.approx(0.6 / 8)


def test_max_drop_marks_the_maxima_it_dropped() -> None:
    chosen = params("maxdrop", p=0.5, mode="feature", window=1)
    theory = MAPS.theory("maxdrop", chosen, SCENE)
    maps = SCENE.data
    hits = 0
    for iteration in range(60):
        frame = MAPS.frame("maxdrop", chosen, 2, iteration, SCENE, theory)
        array = frame.arrays["mask"]
        assert isinstance(array, BinaryArray)
        flagged = frame.stats["maxima_dropped"]
        for c, (row, column) in enumerate(SCENE.info["peaks"]):
            assert flagged[c] == bool(array.tensor[c, row, column] == 0)
            assert maps[c, row, column] == maps[c].max()
        zeros = int((array.tensor == 0).sum())
        assert zeros == sum(flagged)  # window 1: the maxima and nothing else
        hits += zeros
    assert_binomial_fraction(hits, 60 * 8, 0.5)


def test_standard_dropout_fraction_and_stochastic_p() -> None:
    chosen = params("standard", p=0.2)
    theory = MAPS.theory("standard", chosen, SCENE)
    frame = MAPS.frame("standard", chosen, 0, 0, SCENE, theory)
    assert_binomial_fraction(frame.stats["dropped_fraction"] * maps_units(), maps_units(), 0.2)
    stochastic = params("stochastic", mu=0.3, sigma=0.1)
    theory = MAPS.theory("stochastic", stochastic, SCENE)
    for iteration in range(5):
        frame = MAPS.frame("stochastic", stochastic, 4, iteration, SCENE, theory)
        p_t = frame.stats["p_t"]
        assert p_t == F.draw_stochastic_p(0.3, 0.1, generator=frame_generator(4, iteration))
        assert_binomial_fraction(frame.stats["dropped_fraction"] * maps_units(), maps_units(), p_t)


def maps_units() -> int:
    return int(SCENE.data.numel())


def test_frames_are_reproducible_and_addressable() -> None:
    chosen = params("dropblock", p=0.25, block_size=9)
    theory = MAPS.theory("dropblock", chosen, SCENE)
    batch = MAPS.frames("dropblock", chosen, 42, range(5, 9), SCENE, theory)
    for frame in batch:
        alone = MAPS.frame("dropblock", chosen, 42, frame.iteration, SCENE, theory)
        assert alone.stats == frame.stats
        a, b = alone.arrays["mask"], frame.arrays["mask"]
        assert isinstance(a, BinaryArray) and isinstance(b, BinaryArray)
        assert torch.equal(a.tensor, b.tensor)
    first, second = (batch[0].arrays["mask"], batch[1].arrays["mask"])
    assert isinstance(first, BinaryArray) and isinstance(second, BinaryArray)
    assert not torch.equal(first.tensor, second.tensor)
