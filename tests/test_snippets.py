"""dropouts.lab.snippets: "copy as code" for every method, with the current numbers in it."""

from __future__ import annotations

import ast
import math
import re
import subprocess
import sys

import pytest
import torch

import dropouts
import dropouts.mc
import dropouts.rnn
import dropouts.sparse
from dropouts.lab.registry import METHODS, ParamValue, get_method, validate_params
from dropouts.lab.snippets import BUILDERS, Snippet, snippets

METHOD_IDS = [method.id for method in METHODS]
FRAMEWORKS = {"torch", "keras", "timm", "torchvision", "albumentations", "dropouts"}


def with_params(method_id: str, **given: object) -> dict[str, ParamValue]:
    return validate_params(get_method(method_id), {k: str(v) for k, v in given.items()})


def by_framework(found: list[Snippet]) -> dict[str, Snippet]:
    return {snippet.framework: snippet for snippet in found}


def test_every_registry_method_has_a_builder() -> None:
    assert set(BUILDERS) == set(METHOD_IDS)


@pytest.mark.parametrize("method_id", METHOD_IDS)
def test_snippets_render_with_the_defaults(method_id: str) -> None:
    found = snippets(method_id, get_method(method_id).defaults(), 0)
    assert found
    frameworks = [snippet.framework for snippet in found]
    assert "dropouts" in frameworks
    assert len(set(frameworks)) == len(frameworks)  # one snippet per library
    for snippet in found:
        assert snippet.framework in FRAMEWORKS
        assert snippet.label and snippet.code.strip()
        assert "{" not in snippet.code.replace("{}", "")  # no unfilled template field
        ast.parse(snippet.code)  # every snippet is Python


def namespace() -> dict[str, object]:
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))
    return {
        "torch": torch,
        "dropouts": dropouts,
        "x": torch.rand(2, 3, 40, 40),
        "in_features": 4,
        "out_features": 5,
        "input_size": 4,
        "hidden_size": 6,
        "model": model,
    }


def test_import_dropouts_gives_every_submodule_the_snippets_use() -> None:
    """``import dropouts`` alone (a fresh interpreter) reaches mc, rnn and sparse."""
    code = "import dropouts; dropouts.mc.mc_predict; dropouts.rnn.DropoutLSTM; dropouts.sparse"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("method_id", METHOD_IDS)
def test_the_dropouts_snippet_runs(method_id: str) -> None:
    """The library's own snippet names real functions and keyword arguments."""
    ours = by_framework(snippets(method_id, get_method(method_id).defaults(), 5))["dropouts"]
    # The snippet brings its own imports: only the user's objects are given.
    scope = {k: v for k, v in namespace().items() if k not in ("torch", "dropouts")}
    if method_id == "mc_dropout":
        scope["x"] = torch.rand(5, 3)
    exec(ours.code, scope)


@pytest.mark.parametrize(
    "method_id",
    [
        method_id
        for method_id in METHOD_IDS
        if method_id != "compression"  # deterministic once trained: no seed to show
    ],
)
def test_the_dropouts_snippet_uses_the_chosen_seed(method_id: str) -> None:
    found = snippets(method_id, get_method(method_id).defaults(), 1234567)
    ours = by_framework(found)["dropouts"]
    assert "1234567" in ours.code


def keras_rate(found: list[Snippet]) -> float:
    match = re.search(r"GaussianDropout\(rate=([0-9.e+-]+)\)", by_framework(found)["keras"].code)
    assert match, by_framework(found)["keras"].code
    return float(match.group(1))


@pytest.mark.parametrize("sigma", [0.05, 0.3, 0.5, 1.0, 2.5, 3.0])
def test_keras_gaussian_rate_gives_the_chosen_sigma(sigma: float) -> None:
    found = snippets("gaussian", with_params("gaussian", p=0.2, sigma=sigma), 0)
    rate = keras_rate(found)
    assert 0 < rate < 1
    assert math.sqrt(rate / (1 - rate)) == pytest.approx(sigma, rel=1e-5)
    assert f"sigma={sigma:g}" in by_framework(found)["dropouts"].code
    assert f"(1 + {sigma:g} * torch.randn_like(x))" in by_framework(found)["torch"].code


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keras_gaussian_rate_with_auto_sigma_is_p(p: float) -> None:
    found = snippets("gaussian", with_params("gaussian", p=p), 0)
    rate = keras_rate(found)
    assert rate == pytest.approx(p)
    assert math.sqrt(rate / (1 - rate)) == pytest.approx(math.sqrt(p / (1 - p)), rel=1e-5)
    # The hand-written torch noise has the same std.
    torch_code = by_framework(found)["torch"].code
    expression = re.search(r"\(1 \+ (.+) \* torch\.randn_like", torch_code)
    assert expression
    assert eval(expression.group(1)) == pytest.approx(math.sqrt(p / (1 - p)), rel=1e-5)


@pytest.mark.parametrize(("size", "holes"), [(96, 1), (37, 3), (1, 20)])
def test_cutout_snippets_contain_the_current_numbers(size: int, holes: int) -> None:
    found = by_framework(snippets("cutout", with_params("cutout", size=size, n_holes=holes), 0))
    albumentations = found["albumentations"].code
    assert f"num_holes_range=({holes}, {holes})" in albumentations
    assert f"hole_height_range=({size}, {size})" in albumentations
    assert f"hole_width_range=({size}, {size})" in albumentations
    assert f"a = {size}**2" in found["torchvision"].code
    assert f"F.cutout(x, {size}, n_holes={holes}," in found["dropouts"].code


@pytest.mark.parametrize(("p", "block"), [(0.2, 31), (0.05, 7), (0.35, 1)])
def test_dropblock_snippets_contain_the_current_numbers(p: float, block: int) -> None:
    found = by_framework(snippets("dropblock", with_params("dropblock", p=p, block_size=block), 0))
    assert f"DropBlock2d(drop_prob={p:g}, block_size={block}," in found["timm"].code
    assert f"DropBlock2d(p={p:g}, block_size={block})" in found["torchvision"].code
    assert f"F.dropblock(x, p={p:g}, block_size={block}," in found["dropouts"].code


def test_standard_snippets_follow_the_scaling() -> None:
    inverted = by_framework(snippets("standard", with_params("standard", p=0.3), 0))
    assert inverted["torch"].code == "import torch\ntorch.nn.Dropout(p=0.3)"
    assert inverted["keras"].code == "import keras\nkeras.layers.Dropout(rate=0.3)"
    assert "scale=True" in inverted["dropouts"].code
    original = by_framework(
        snippets("standard", with_params("standard", p=0.3, scaling="original"), 0)
    )
    assert "keras" not in original
    assert "scale=False" in original["dropouts"].code
    assert original["torch"].note  # says torch only has the inverted form
