"""The LSTM view (dropouts.lab.views.lstm, GET /api/frames?view=lstm) and its export.

Issue 11's checks on what the API returns: the masks are constant over time exactly for the
per-sequence modes (RNNDrop, variational, recurrent dropout with ``per_sequence``) and vary for
naive dropout and the per-step modes; recurrent dropout masks g only (with the input gate
forced to 0 the cell state is unchanged); zoneout's held units equal their previous values
exactly; the cell state stays bounded under RNNDrop at p up to 0.5 over 100 steps (the 0/1
mask inside the recurrence, methods.md §9(b)).
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image, ImageSequence

from app.render import THEMES, drawn_views, renderer_of
from dropouts.lab.registry import get_method, get_view
from dropouts.lab.views import BUILT
from dropouts.lab.views.lstm import LSTM_METHODS, VIEW
from dropouts.lab.views.lstm_run import simulate
from dropouts.rnn import DropoutLSTM

PER_SEQUENCE = {"rnndrop", "variational_rnn"}


def bits(description: dict[str, Any]) -> np.ndarray:
    """A ``bits`` array of a JSON frame (app/wire.py) as 0/1 of its shape ``[1, rows, T]``."""
    assert description["encoding"] == "bits"
    shape = description["shape"]
    raw = np.frombuffer(zlib.decompress(base64.b64decode(description["data"])), dtype=np.uint8)
    return np.unpackbits(raw)[: int(np.prod(shape))].reshape(shape)


def frames(client: TestClient, query: str, count: int = 3) -> dict[str, Any]:
    response = client.get(f"/api/frames?view=lstm&{query}&start=0&count={count}&format=json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def defaults(method: str) -> dict[str, Any]:
    params = {p.name: p.default for p in get_method(method).params}
    return params | {p.name: p.default for p in get_view("lstm").params}


# ---------------------------------------------------------------- masks over time


@pytest.mark.parametrize("method", LSTM_METHODS)
def test_masks_are_constant_over_time_exactly_for_the_per_sequence_modes(
    client: TestClient, method: str
) -> None:
    body = frames(client, f"method={method}&seed=7")
    theory = body["theory"]
    assert "lstm" in BUILT and method in VIEW.methods
    for frame in body["frames"]:
        for spec in theory["masks"]:
            mask = bits(frame[f"mask_{spec['key']}"])[0]  # (rows, T)
            constant = bool((mask == mask[:, :1]).all())
            assert constant is (method in PER_SEQUENCE), (method, spec["key"])
            assert constant is (spec["per"] == "sequence")
            assert frame["masks"][spec["key"]]["constant"] is constant
            if constant:
                assert frame["masks"][spec["key"]]["changed_fraction"] == 0
        assert frame["constant"] is (method in PER_SEQUENCE)
        naive = bits(frame["naive_mask"])[0]
        assert not (naive == naive[:, :1]).all() and frame["naive"]["constant"] is False
        assert frame["naive"]["changed_fraction"] > 0.2  # 2p(1 - p) = 0.375 at p = 0.25


def test_recurrent_dropout_with_one_mask_per_sequence_is_constant_too(client: TestClient) -> None:
    body = frames(client, "method=recurrent&per_sequence=true&seed=2")
    for frame in body["frames"]:
        mask = bits(frame["mask_update"])[0]
        assert (mask == mask[:, :1]).all() and frame["constant"] is True
    assert body["theory"]["expected_changed_fraction"] == 0


@pytest.mark.parametrize("method", LSTM_METHODS)
def test_the_masks_shown_are_the_ones_the_lstm_applied(method: str) -> None:
    params = defaults(method)
    theory = VIEW.theory(method, params, VIEW.scene(None))
    run = simulate(3, 5, theory)
    frame = VIEW.frame(method, params, 3, 5, VIEW.scene(None), theory)
    for spec in theory.masks:
        shown = frame.arrays[f"mask_{spec.key}"]
        applied = run.method.masks[spec.key]  # (T, rows)
        assert torch.equal(shown.tensor[0], applied.t())  # type: ignore[union-attr]
        assert set(run.method.masks) == {s.key for s in theory.masks}


def test_the_measured_fractions_match_p_within_binomial_bounds(client: TestClient) -> None:
    body = frames(client, "method=rnndrop&p=0.3&seed=11&units=64", count=20)
    # 20 sequences x 64 units, one draw per unit and sequence: sd = sqrt(p q / 1280).
    measured = np.mean([frame["dropped_fraction"] for frame in body["frames"]])
    assert abs(measured - 0.3) < 4.5 * math.sqrt(0.3 * 0.7 / 1280)
    body = frames(client, "method=zoneout&zoneout_c=0.5&zoneout_h=0.05&seed=11", count=10)
    cells = np.mean([frame["masks"]["zoneout_c"]["dropped_fraction"] for frame in body["frames"]])
    assert abs(cells - 0.5) < 4.5 * math.sqrt(0.25 / (10 * 32 * 50))
    changed = np.mean([frame["masks"]["zoneout_c"]["changed_fraction"] for frame in body["frames"]])
    assert abs(changed - 0.5) < 0.05  # 2 z (1 - z) at z = 0.5


# ---------------------------------------------------------------- where each mask acts


def lstm(mode: str, **options: Any) -> DropoutLSTM:
    return DropoutLSTM(3, 6, mode=mode, generator=torch.Generator().manual_seed(5), **options)  # type: ignore[arg-type]


def test_recurrent_dropout_masks_only_g_and_a_closed_input_gate_leaves_the_cell_unchanged() -> None:
    model = lstm("recurrent", p=0.5)
    with torch.no_grad():
        model.bias_ih[:6] = -1e4  # input gate: σ = 0 exactly
        model.bias_ih[6:12] = 1e4  # forget gate: σ = 1 exactly
    x = torch.randn(40, 2, 3, generator=torch.Generator().manual_seed(1))
    c0 = torch.randn(2, 6, generator=torch.Generator().manual_seed(2))
    h0 = torch.zeros(2, 6)
    _, (_, c_last), trace = model(x, (h0, c0), return_trace=True)
    assert set(trace.masks) == {"update"}  # g and nothing else
    assert (trace.masks["update"] == 0).any() and (trace.masks["update"] == 2.0).any()
    assert torch.equal(c_last, c0)
    assert all(torch.equal(trace.cell[t], c0) for t in range(40))  # no memory loss
    # And with the gates free, the masked g is the only difference from a plain LSTM.
    free = lstm("recurrent", p=0.5)
    plain = lstm("none")
    plain.load_state_dict(free.state_dict())
    _, _, masked = free(x, return_trace=True)
    _, _, reference = plain(x, return_trace=True)
    assert (masked.f > 0).all() and (masked.i > 0).all() and (masked.o > 0).all()
    assert torch.equal(masked.g[0], reference.g[0])  # g before the mask, at the first step


def test_zoneout_held_units_equal_their_previous_values_exactly() -> None:
    model = lstm("zoneout", zoneout_c=0.5, zoneout_h=0.3)
    x = torch.randn(60, 2, 3, generator=torch.Generator().manual_seed(3))
    c0 = torch.randn(2, 6, generator=torch.Generator().manual_seed(4))
    h0 = torch.randn(2, 6, generator=torch.Generator().manual_seed(6))
    _, _, trace = model(x, (h0, c0), return_trace=True)
    for state, initial, key in ((trace.cell, c0, "zoneout_c"), (trace.hidden, h0, "zoneout_h")):
        previous = torch.cat([initial[None], state[:-1]])
        held = trace.masks[key] == 1
        assert held.any() and (~held).any()
        assert torch.equal(state[held], previous[held])  # exactly, not approximately
        assert not torch.equal(state[~held], previous[~held])


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5])
def test_the_state_stays_bounded_under_rnndrop_over_100_steps(client: TestClient, p: float) -> None:
    model = lstm("rnndrop", p=p)
    with torch.no_grad():
        model.bias_ih[6:12] = 5.0  # f ≈ 1: the cell accumulates, as far as it can
    x = torch.randn(100, 4, 3, generator=torch.Generator().manual_seed(8))
    output, _, trace = model(x, return_trace=True)
    steps = torch.arange(1, 101, dtype=torch.float32)[:, None, None]
    # |c_t| <= |c_{t-1}| + |i g| <= t: at most linear, where an inverted mask inside the
    # recurrence would compound as (1 - p)^-t (2^100 at p = 0.5).
    assert (trace.cell.abs() <= steps).all()
    assert output.abs().max() <= 1.0 / (1.0 - p) + 1e-6  # the 1/(1-p) only on the output
    dropped = trace.masks["cell"][0] == 0
    assert (trace.cell[:, dropped] == 0).all()  # a dropped unit is 0 at every step
    # Through the API: the view's toy LSTM at p = 0.5 over 100 steps.
    body = frames(client, f"method=rnndrop&p={p}&length=100&seed=1", count=2)
    for frame in body["frames"]:
        assert np.abs(np.asarray(frame["cells"]["value"]["method"])).max() <= 100


# ---------------------------------------------------------------- the API's promises


def test_the_same_request_gives_the_same_frame_and_another_iteration_another(
    client: TestClient,
) -> None:
    query = "view=lstm&method=variational_rnn&seed=4&count=1"
    first = client.get(f"/api/frames?{query}&start=3").content
    assert client.get(f"/api/frames?{query}&start=3").content == first
    assert client.get(f"/api/frames?{query}&start=4").content != first
    assert client.get(f"/api/frames?{query.replace('seed=4', 'seed=5')}&start=3").content != first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("method=rnndrop&units=999", "units"),
        ("method=rnndrop&length=3", "length"),
        ("method=zoneout&zoneout_c=2", "zoneout_c"),
        ("method=rnndrop&memory_k=99", "memory_k"),
        ("method=standard", "method"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/frames?view=lstm&{query}&start=0&count=1")
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["message"] and error["allowed"]


def test_the_theory_places_each_mask() -> None:
    places = {}
    for method in LSTM_METHODS:
        theory = VIEW.theory(method, defaults(method), VIEW.scene(None))
        places[method] = sorted(spec.acts_on for spec in theory.masks)
    assert places == {
        "rnndrop": ["c"],
        "recurrent": ["g"],
        "variational_rnn": ["h", "x"],
        "zoneout": ["c", "h"],
    }


# ---------------------------------------------------------------- the export


def test_the_export_draws_the_masks_and_changes_with_the_iteration(client: TestClient) -> None:
    assert "lstm" in drawn_views()
    response = client.get("/api/export?view=lstm&method=rnndrop&format=gif&frames=3&size=480x300")
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as gif:
        pictures = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(pictures) == 3 and all(p.shape == (300, 480, 3) for p in pictures)
    assert not np.array_equal(pictures[0], pictures[1])
    params = defaults("zoneout")
    theory = VIEW.theory("zoneout", params, VIEW.scene(None))
    frame = VIEW.frame("zoneout", params, 0, 0, VIEW.scene(None), theory)
    from app.render.base import PanelInput

    panel = PanelInput(
        "lstm", get_method("zoneout"), params, VIEW.scene(None), theory, VIEW.theory_json(theory)
    )
    for name in ("light", "contrast"):
        picture = np.asarray(renderer_of("lstm").render(panel, frame, (640, 400), THEMES[name]))
        assert picture.shape == (400, 640, 3)
        blue = (np.abs(picture.astype(int) - (0, 114, 178)).sum(axis=-1) < 30).mean()
        assert blue > 0.02  # zoneout's held units, blue
