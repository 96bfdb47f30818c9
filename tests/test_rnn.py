"""Tests of dropouts.rnn.DropoutLSTM against the invariants of methods.md §9-11 and §16.

Statistical checks use bounds derived from the distribution (binomial / standard-error
±4σ) with seeded generators, so they are deterministic and far from flaky.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import Tensor

from dropouts.rnn import MODES, DropoutLSTM, LSTMTrace, Mode

D, H = 3, 8
SIGMAS = 4.0
DROPOUT_MODES: tuple[Mode, ...] = ("naive", "rnndrop", "recurrent", "variational")


def make(
    mode: Mode, p: float = 0.3, *, seed: int = 0, d: int = D, h: int = H, **kwargs: Any
) -> DropoutLSTM:
    """A DropoutLSTM with seeded weights and a mask generator seeded with ``seed + 1``."""
    generator = torch.Generator().manual_seed(seed + 1)
    model = DropoutLSTM(d, h, mode=mode, p=p, generator=generator, **kwargs)
    weights = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(h)
    with torch.no_grad():
        for param in model.parameters():
            param.uniform_(-bound, bound, generator=weights)
    return model


def inputs(steps: int = 6, batch: int = 4, d: int = D, seed: int = 100) -> Tensor:
    return torch.randn(steps, batch, d, generator=torch.Generator().manual_seed(seed))


def run(
    model: DropoutLSTM, x: Tensor, state: tuple[Tensor, Tensor] | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor], LSTMTrace]:
    with torch.no_grad():
        result: tuple[Tensor, tuple[Tensor, Tensor], LSTMTrace] = model(x, state, return_trace=True)
    return result


def gates(model: DropoutLSTM, x_t: Tensor, h_prev: Tensor) -> tuple[Tensor, ...]:
    """i, f, g, o recomputed from the (already masked) step input and recurrent state."""
    with torch.no_grad():
        pre = x_t @ model.weight_ih.T + model.bias_ih + h_prev @ model.weight_hh.T + model.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)
    return i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()


def previous(trace_values: Tensor, initial: Tensor, t: int) -> Tensor:
    """The state entering step t."""
    return initial if t == 0 else trace_values[t - 1]


def assert_binomial(mask: Tensor, prob_one: float) -> None:
    """The fraction of ones of a 0/1 mask is within 4 binomial σ of ``prob_one``."""
    n = mask.numel()
    fraction = mask.float().mean().item()
    sigma = math.sqrt(prob_one * (1.0 - prob_one) / n)
    assert abs(fraction - prob_one) <= SIGMAS * sigma, (fraction, prob_one, sigma)


def assert_constant_over_time(mask: Tensor) -> None:
    assert torch.equal(mask, mask[:1].expand_as(mask))


def assert_varies_over_time(mask: Tensor) -> None:
    assert any(not torch.equal(mask[t], mask[0]) for t in range(1, mask.shape[0]))


def assert_varies_over_batch(mask: Tensor) -> None:
    assert any(not torch.equal(mask[:, b], mask[:, 0]) for b in range(1, mask.shape[1]))


def assert_inverted_values(mask: Tensor, p: float) -> None:
    """Every factor is 0 or 1/(1-p)."""
    scale = torch.tensor(1.0 / (1.0 - p))
    assert bool(((mask == 0) | (mask == scale)).all())


def lstm_cell_reference(model: DropoutLSTM, x: Tensor, state: tuple[Tensor, Tensor]) -> Tensor:
    cell = torch.nn.LSTMCell(model.input_size, model.hidden_size)
    cell.load_state_dict(model.state_dict())
    h, c = state
    outputs = []
    with torch.no_grad():
        for x_t in x:
            h, c = cell(x_t, (h, c))
            outputs.append(h)
    return torch.stack(outputs)


# ---------------------------------------------------------------------------------- none


def test_none_matches_lstm_cell() -> None:
    model = make("none")
    x = inputs()
    state = (torch.randn(4, H), torch.randn(4, H))
    out, (h_n, c_n), trace = run(model, x, state)
    expected = lstm_cell_reference(model, x, state)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(h_n, expected[-1], atol=1e-6, rtol=0)
    assert trace.masks == {}
    assert trace.cell.shape == trace.hidden.shape == trace.i.shape == (6, 4, H)
    torch.testing.assert_close(c_n, trace.cell[-1], atol=0, rtol=0)


def test_default_initialisation_matches_lstm_cell_bounds() -> None:
    model = DropoutLSTM(D, 16, mode="none")
    assert model.weight_ih.shape == (64, D) and model.weight_hh.shape == (64, 16)
    assert model.bias_ih.shape == model.bias_hh.shape == (64,)
    for param in model.parameters():
        assert param.abs().max().item() <= 1.0 / math.sqrt(16)


# ------------------------------------------------------------------------------- rnndrop


def test_rnndrop_mask_is_per_sequence_and_zeroes_dropped_units() -> None:
    model = make("rnndrop", p=0.4)
    _, _, trace = run(model, inputs(steps=8, batch=6))
    mask = trace.masks["cell"]
    assert mask.shape == (8, 6, H)
    assert bool(((mask == 0) | (mask == 1)).all())  # unscaled inside the recurrence
    assert_constant_over_time(mask)
    assert_varies_over_batch(mask)
    dropped = mask == 0
    assert bool(dropped.any())
    assert bool((trace.cell[dropped] == 0).all())
    assert bool((trace.hidden[dropped] == 0).all())


def test_rnndrop_dropped_fraction_is_binomial() -> None:
    p = 0.3
    model = make("rnndrop", p=p, h=64)
    _, _, trace = run(model, inputs(steps=2, batch=64))
    assert_binomial(trace.masks["cell"][0] == 0, p)


def test_rnndrop_kept_units_follow_lstm_dynamics_and_output_is_scaled() -> None:
    p = 0.4
    model = make("rnndrop", p=p)
    x = inputs(steps=7, batch=5)
    h0, c0 = torch.randn(5, H), torch.randn(5, H)
    out, (h_n, c_n), trace = run(model, x, (h0, c0))
    kept = trace.masks["cell"][0] == 1
    for t in range(x.shape[0]):
        h_prev, c_prev = previous(trace.hidden, h0, t), previous(trace.cell, c0, t)
        i, f, g, o = gates(model, x[t], h_prev)  # h_{t-1} is not masked
        for name, value in zip("ifgo", (i, f, g, o), strict=True):
            torch.testing.assert_close(getattr(trace, name)[t], value, atol=1e-6, rtol=0)
        torch.testing.assert_close(trace.cell[t][kept], (f * c_prev + i * g)[kept])
        torch.testing.assert_close(trace.hidden[t], o * trace.cell[t].tanh())
    assert trace.output_scale == pytest.approx(1.0 / (1.0 - p))
    torch.testing.assert_close(out, trace.hidden / (1.0 - p))
    assert torch.equal(h_n, trace.hidden[-1]) and torch.equal(c_n, trace.cell[-1])


def test_rnndrop_kept_units_equal_plain_lstm_without_recurrent_weights() -> None:
    # With W_hh = 0 the gates depend on x only, so a kept unit must have exactly the cell
    # state of a plain LSTM: any scaling inside the recurrence would show up here.
    steps = 50
    x = inputs(steps=steps, batch=8)
    plain, dropped = make("none"), make("rnndrop", p=0.25)
    for model in (plain, dropped):
        with torch.no_grad():
            model.weight_hh.zero_()
            model.bias_ih[H : 2 * H] = 6.0  # forget gate ≈ 1: compounding would explode
    _, _, ref = run(plain, x)
    _, _, trace = run(dropped, x)
    kept = trace.masks["cell"][0] == 1
    torch.testing.assert_close(trace.cell[:, kept], ref.cell[:, kept], atol=1e-5, rtol=1e-6)
    # |c_t| <= |c_{t-1}| + 1 for any unscaled LSTM (f, i < 1, |g| < 1), hence <= t.
    assert trace.cell.abs().max().item() <= steps


# ----------------------------------------------------------------------------- recurrent


def test_recurrent_masks_only_the_candidate() -> None:
    p = 0.5
    model = make("recurrent", p=p)
    x = inputs(steps=6, batch=5)
    h0, c0 = torch.randn(5, H), torch.randn(5, H)
    _, _, trace = run(model, x, (h0, c0))
    mask = trace.masks["update"]
    assert_inverted_values(mask, p)
    for t in range(x.shape[0]):
        h_prev, c_prev = previous(trace.hidden, h0, t), previous(trace.cell, c0, t)
        i, f, g, o = gates(model, x[t], h_prev)  # h_{t-1} is not masked
        for name, value in zip("ifgo", (i, f, g, o), strict=True):
            torch.testing.assert_close(getattr(trace, name)[t], value, atol=1e-6, rtol=0)
        tr_i, tr_f, tr_g = trace.i[t], trace.f[t], trace.g[t]
        torch.testing.assert_close(
            trace.cell[t] - tr_f * c_prev, tr_i * tr_g * mask[t], atol=1e-6, rtol=0
        )
        assert torch.equal(trace.cell[t], tr_f * c_prev + tr_i * (tr_g * mask[t]))
        torch.testing.assert_close(trace.hidden[t], trace.o[t] * trace.cell[t].tanh())


def test_recurrent_mask_per_step_or_per_sequence() -> None:
    p = 0.3
    _, _, per_step = run(make("recurrent", p=p, h=32), inputs(steps=6, batch=32))
    assert_varies_over_time(per_step.masks["update"])
    assert_varies_over_batch(per_step.masks["update"])
    assert_binomial(per_step.masks["update"] == 0, p)
    model = make("recurrent", p=p, h=32, per_sequence=True)
    _, _, per_seq = run(model, inputs(steps=6, batch=32))
    assert_constant_over_time(per_seq.masks["update"])
    assert_varies_over_batch(per_seq.masks["update"])
    assert_binomial(per_seq.masks["update"][0] == 0, p)


def test_recurrent_cell_expectation_is_the_unmasked_update() -> None:
    # One step from a fixed state, the same sample repeated n times: the batch mean of c_1
    # estimates E[c_t | c_{t-1}, gates] = f c_{t-1} + i g. Var = (i g)^2 p / (1 - p).
    p, n = 0.4, 4000
    model = make("recurrent", p=p)
    x = inputs(steps=1, batch=1).expand(1, n, D)
    h0, c0 = torch.randn(1, H).expand(n, H), torch.randn(1, H).expand(n, H)
    _, _, trace = run(model, x, (h0, c0))
    f, i, g = trace.f[0, 0], trace.i[0, 0], trace.g[0, 0]
    expected = f * c0[0] + i * g
    std_error = (i * g).abs() * math.sqrt(p / (1.0 - p) / n)
    deviation = (trace.cell[0].mean(dim=0) - expected).abs()
    assert bool((deviation <= SIGMAS * std_error + 1e-6).all()), (deviation, std_error)
    model.eval()
    _, _, eval_trace = run(model, x[:, :1], (h0[:1], c0[:1]))
    torch.testing.assert_close(eval_trace.cell[0, 0], expected)


# --------------------------------------------------------------------------- variational


def test_variational_masks_per_sequence_tied_and_cell_unmasked() -> None:
    p, p_input = 0.3, 0.5
    model = make("variational", p=p, p_input=p_input, d=16, h=32)
    x = inputs(steps=5, batch=40, d=16)
    _, _, trace = run(model, x)
    z_x, z_h = trace.masks["input"], trace.masks["hidden"]
    assert z_x.shape == (5, 40, 16) and z_h.shape == (5, 40, 32)
    for mask, prob in ((z_x, p_input), (z_h, p)):
        assert_constant_over_time(mask)
        assert_varies_over_batch(mask)
        assert_inverted_values(mask, prob)
        assert_binomial(mask[0] == 0, prob)
    h0 = c0 = torch.zeros(40, 32)
    for t in range(x.shape[0]):
        h_prev, c_prev = previous(trace.hidden, h0, t), previous(trace.cell, c0, t)
        i, f, g, o = gates(model, x[t] * z_x[t], h_prev * z_h[t])  # one mask pair, 4 gates
        for name, value in zip("ifgo", (i, f, g, o), strict=True):
            torch.testing.assert_close(getattr(trace, name)[t], value, atol=1e-6, rtol=0)
        torch.testing.assert_close(trace.cell[t], f * c_prev + i * g)  # c never masked
        torch.testing.assert_close(trace.hidden[t], o * trace.cell[t].tanh())


def test_variational_p_input_defaults_to_p() -> None:
    model = DropoutLSTM(D, H, mode="variational", p=0.2)
    assert model.p_input == 0.2


# ------------------------------------------------------------------------------- zoneout


def zoneout_candidates(
    model: DropoutLSTM, x: Tensor, trace: LSTMTrace, state: tuple[Tensor, Tensor], t: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(h_{t-1}, c_{t-1}, h̃_t, c̃_t) from the trace and the ordinary LSTM update."""
    h_prev, c_prev = previous(trace.hidden, state[0], t), previous(trace.cell, state[1], t)
    c_new = trace.f[t] * c_prev + trace.i[t] * trace.g[t]
    return h_prev, c_prev, trace.o[t] * c_new.tanh(), c_new


def test_zoneout_each_unit_is_exactly_previous_or_new() -> None:
    z_c, z_h = 0.5, 0.2
    model = make("zoneout", zoneout_c=z_c, zoneout_h=z_h, h=32)
    x = inputs(steps=6, batch=16)
    state = (torch.randn(16, 32), torch.randn(16, 32))
    _, _, trace = run(model, x, state)
    d_c, d_h = trace.masks["zoneout_c"], trace.masks["zoneout_h"]
    assert_varies_over_time(d_c)
    assert not torch.equal(d_c, d_h)  # separate masks for h and c
    for t in range(x.shape[0]):
        h_prev, c_prev, h_new, c_new = zoneout_candidates(model, x, trace, state, t)
        _, f, _, _ = gates(model, x[t], h_prev)  # h_{t-1} is not masked
        torch.testing.assert_close(trace.f[t], f, atol=1e-6, rtol=0)
        for value, prev, new, d in (
            (trace.cell[t], c_prev, c_new, d_c[t]),
            (trace.hidden[t], h_prev, h_new, d_h[t]),
        ):
            assert bool(((value == prev) | (value == new)).all())
            assert torch.equal(value[d == 1], prev[d == 1])
            assert torch.equal(value[d == 0], new[d == 0])
    assert_binomial(d_c == 1, z_c)
    assert_binomial(d_h == 1, z_h)


def test_zoneout_zero_is_plain_lstm_and_one_freezes_the_state() -> None:
    x = inputs()
    state = (torch.randn(4, H), torch.randn(4, H))
    out_none, _, _ = run(make("none"), x, state)
    out_zero, _, _ = run(make("zoneout", p=0.0), x, state)
    assert torch.equal(out_zero, out_none)
    out_one, (h_n, c_n), trace = run(make("zoneout", p=1.0), x, state)
    assert torch.equal(out_one, state[0].expand_as(out_one))
    assert torch.equal(trace.cell, state[1].expand_as(trace.cell))
    assert torch.equal(h_n, state[0]) and torch.equal(c_n, state[1])


def test_zoneout_eval_is_the_expectation() -> None:
    z_c, z_h = 0.5, 0.1
    model = make("zoneout", zoneout_c=z_c, zoneout_h=z_h).eval()
    x = inputs()
    state = (torch.randn(4, H), torch.randn(4, H))
    _, _, trace = run(model, x, state)
    assert bool((trace.masks["zoneout_c"] == z_c).all())
    assert bool((trace.masks["zoneout_h"] == z_h).all())
    for t in range(x.shape[0]):
        h_prev, c_prev, h_new, c_new = zoneout_candidates(model, x, trace, state, t)
        torch.testing.assert_close(trace.cell[t], z_c * c_prev + (1 - z_c) * c_new)
        torch.testing.assert_close(trace.hidden[t], z_h * h_prev + (1 - z_h) * h_new)


def test_zoneout_train_mean_matches_eval_formula() -> None:
    # One step, one sample repeated n times: c_1 is c_0 w.p. z and c̃_1 otherwise, so the
    # batch mean has standard error |c_0 - c̃_1| sqrt(z (1 - z) / n).
    z, n = 0.3, 4000
    model = make("zoneout", p=z)
    x = inputs(steps=1, batch=1).expand(1, n, D)
    h0, c0 = torch.randn(1, H).expand(n, H), torch.randn(1, H).expand(n, H)
    _, _, trace = run(model, x, (h0, c0))
    _, _, eval_trace = run(model.eval(), x[:, :1], (h0[:1], c0[:1]))
    _, _, h_new, c_new = zoneout_candidates(model, x[:, :1], eval_trace, (h0[:1], c0[:1]), 0)
    for values, prev, new, expected in (
        (trace.cell[0], c0[0], c_new[0], eval_trace.cell[0, 0]),
        (trace.hidden[0], h0[0], h_new[0], eval_trace.hidden[0, 0]),
    ):
        std_error = (prev - new).abs() * math.sqrt(z * (1 - z) / n)
        deviation = (values.mean(dim=0) - expected).abs()
        assert bool((deviation <= SIGMAS * std_error + 1e-6).all()), (deviation, std_error)


# --------------------------------------------------------------------------------- naive


def test_naive_fresh_hidden_mask_every_step() -> None:
    p = 0.5
    model = make("naive", p=p)
    x = inputs(steps=6, batch=5)
    _, _, trace = run(model, x)
    mask = trace.masks["hidden"]
    assert_varies_over_time(mask)
    assert_inverted_values(mask, p)
    for t in range(x.shape[0]):
        h_prev = previous(trace.hidden, torch.zeros(5, H), t)
        i, f, g, o = gates(model, x[t], h_prev * mask[t])
        for name, value in zip("ifgo", (i, f, g, o), strict=True):
            torch.testing.assert_close(getattr(trace, name)[t], value, atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- all modes


@pytest.mark.parametrize("mode", MODES)
def test_eval_is_deterministic_and_draws_nothing(mode: Mode) -> None:
    model = make(mode, p=0.5).eval()
    assert model.generator is not None
    before = model.generator.get_state()
    x = inputs()
    out1, state1, trace1 = run(model, x)
    out2, state2, _ = run(model, x)
    assert torch.equal(model.generator.get_state(), before)
    assert torch.equal(out1, out2) and torch.equal(state1[0], state2[0])
    assert trace1.output_scale == 1.0
    if mode in DROPOUT_MODES:  # inverted dropout: identity at test time
        out_none, _, _ = run(make("none"), x)
        torch.testing.assert_close(out1, out_none, atol=0, rtol=0)
        for mask in trace1.masks.values():
            assert bool((mask == 1).all())


@pytest.mark.parametrize("mode", MODES)
def test_same_seed_same_output_and_trace(mode: Mode) -> None:
    x = inputs()
    out1, _, trace1 = run(make(mode, seed=3), x)
    out2, _, trace2 = run(make(mode, seed=3), x)
    assert torch.equal(out1, out2)
    assert trace1.masks.keys() == trace2.masks.keys()
    for name in trace1.masks:
        assert torch.equal(trace1.masks[name], trace2.masks[name])
    for name in ("cell", "hidden", "i", "f", "g", "o"):
        assert torch.equal(getattr(trace1, name), getattr(trace2, name))
    if mode != "none":  # and a training forward does draw
        model = make(mode, seed=3)
        assert model.generator is not None
        before = model.generator.get_state()
        run(model, x)
        assert not torch.equal(model.generator.get_state(), before)


@pytest.mark.parametrize("mode", MODES)
def test_p_zero_is_plain_lstm(mode: Mode) -> None:
    x = inputs()
    state = (torch.randn(4, H), torch.randn(4, H))
    out_none, (h_none, c_none), _ = run(make("none"), x, state)
    out, (h_n, c_n), _ = run(make(mode, p=0.0), x, state)
    assert torch.equal(out, out_none)
    assert torch.equal(h_n, h_none) and torch.equal(c_n, c_none)


@pytest.mark.parametrize("mode", MODES)
def test_p_one_gives_finite_values(mode: Mode) -> None:
    out, (h_n, c_n), trace = run(make(mode, p=1.0), inputs())
    for value in (out, h_n, c_n, trace.cell, trace.hidden, *trace.masks.values()):
        assert bool(torch.isfinite(value).all())


@pytest.mark.parametrize("mode", MODES)
def test_layouts_agree(mode: Mode) -> None:
    x = inputs(steps=5, batch=3)
    out, (h_n, c_n), trace = run(make(mode), x)
    model_bf = make(mode, batch_first=True)
    out_bf, (h_bf, c_bf), trace_bf = run(model_bf, x.transpose(0, 1).contiguous())
    assert torch.equal(out_bf, out.transpose(0, 1))
    assert torch.equal(h_bf, h_n) and torch.equal(c_bf, c_n)
    assert torch.equal(trace_bf.hidden, trace.hidden)  # the trace is always time-major

    single = x[:, :1]
    out_b1, (h_b1, c_b1), trace_b1 = run(make(mode), single)
    out_u, (h_u, c_u), trace_u = run(make(mode), single[:, 0])
    assert out_u.shape == (5, H) and h_u.shape == c_u.shape == (H,)
    assert torch.equal(out_u, out_b1[:, 0])
    assert torch.equal(h_u, h_b1[0]) and torch.equal(c_u, c_b1[0])
    assert torch.equal(trace_u.cell, trace_b1.cell[:, 0])
    for name, mask in trace_b1.masks.items():
        assert torch.equal(trace_u.masks[name], mask[:, 0])


@pytest.mark.parametrize("mode", MODES)
def test_state_carries_over_between_calls(mode: Mode) -> None:
    model = make(mode).eval()
    x = inputs(steps=8)
    out, (h_n, c_n), _ = run(model, x)
    first, state, _ = run(model, x[:3])
    second, (h_2, c_2), _ = run(model, x[3:], state)
    torch.testing.assert_close(torch.cat([first, second]), out, atol=0, rtol=0)
    assert torch.equal(h_2, h_n) and torch.equal(c_2, c_n)


@pytest.mark.parametrize("mode", MODES)
def test_backward_reaches_every_parameter(mode: Mode) -> None:
    model = make(mode, p=0.2)
    output, _ = model(inputs())
    output.sum().backward()
    for param in model.parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all())


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="mode"):
        DropoutLSTM(D, H, mode="gal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="p"):
        DropoutLSTM(D, H, mode="naive", p=1.5)
    with pytest.raises(ValueError, match="zoneout_h"):
        DropoutLSTM(D, H, mode="zoneout", zoneout_h=-0.1)
    with pytest.raises(ValueError, match="input"):
        DropoutLSTM(D, H, mode="none")(torch.zeros(2, 3, 4, D))
