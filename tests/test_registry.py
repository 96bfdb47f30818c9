"""The registry: complete, consistent, and a validator that names the field and its range."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from dropouts.lab.registry import (
    FAMILIES,
    METHODS,
    SEED,
    VIEW_LABELS,
    ParamError,
    get_method,
    methods_with_view,
    validate_params,
)
from dropouts.lab.views import views_of

PRODUCT_TABLE = {
    "standard", "dropconnect", "standout", "gaussian", "maxpool", "spatial", "cutout",
    "maxdrop", "stochastic", "rnndrop", "recurrent", "variational_rnn", "mc_dropout",
    "compression", "dropblock", "alpha", "zoneout", "droppath",
}  # fmt: skip


def test_every_method_of_the_product_table_is_registered_once() -> None:
    ids = [method.id for method in METHODS]
    assert len(ids) == len(set(ids))
    assert set(ids) == PRODUCT_TABLE


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.id)
def test_entry_is_complete_and_its_function_exists(method) -> None:  # type: ignore[no-untyped-def]
    assert method.family in FAMILIES
    assert method.views and all(view in VIEW_LABELS for view in method.views)
    assert method.summary and method.formula and method.test_time
    for paper in method.papers:
        assert paper.url.startswith("https://") and 2010 <= paper.year <= 2020
        assert paper.authors and paper.title and paper.venue
    module_name, _, attribute = method.function.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
    names = [param.name for param in method.params]
    assert len(names) == len(set(names)) and SEED.name not in names


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.id)
def test_defaults_lie_in_range_and_validate(method) -> None:  # type: ignore[no-untyped-def]
    for param in method.params:
        assert param.label and param.help
        if param.kind in ("float", "int"):
            assert param.min is not None and param.max is not None and param.step
            assert param.min < param.max and param.step > 0
            if param.default is not None:
                assert isinstance(param.default, int | float)
                assert param.min <= param.default <= param.max
        if param.kind == "choice":
            assert param.default in param.choices
    assert validate_params(method, {}) == method.defaults()


def test_validation_coerces_query_strings() -> None:
    cutout = get_method("cutout")
    assert validate_params(cutout, {"size": "32", "n_holes": "3"}) == {"size": 32, "n_holes": 3}
    recurrent = get_method("recurrent")
    assert validate_params(recurrent, {"per_sequence": "true"})["per_sequence"] is True
    gaussian = get_method("gaussian")
    assert validate_params(gaussian, {"sigma": ""})["sigma"] is None
    assert validate_params(gaussian, {"sigma": "0.5"})["sigma"] == 0.5


@pytest.mark.parametrize(
    ("method_id", "values", "field", "allowed"),
    [
        ("standard", {"p": "1.5"}, "p", "a number from 0 to 1"),
        ("standard", {"p": "abc"}, "p", "a number from 0 to 1"),
        ("standard", {"p": "nan"}, "p", "a number from 0 to 1"),
        ("standard", {"scaling": "both"}, "scaling", "one of 'inverted', 'original'"),
        ("cutout", {"size": "2.5"}, "size", "a whole number from 1 to 512"),
        ("cutout", {"holes": "2"}, "holes", "n_holes, size"),
        ("recurrent", {"per_sequence": "maybe"}, "per_sequence", "true or false"),
        ("standard", {"p": ""}, "p", "a number from 0 to 1"),
    ],
)
def test_errors_name_the_field_and_the_allowed_range(
    method_id: str, values: dict[str, str], field: str, allowed: str
) -> None:
    with pytest.raises(ParamError) as caught:
        validate_params(get_method(method_id), values)
    assert caught.value.field == field
    assert allowed in caught.value.allowed


def test_lookups() -> None:
    with pytest.raises(KeyError, match="known: standard"):
        get_method("nope")
    image_methods = {method.id for method in methods_with_view("image")}
    assert {"standard", "gaussian", "spatial", "cutout", "dropblock"} <= image_methods
    assert get_method("standout").paper.cite().startswith("J. Ba, B. Frey (2013)")


def test_readme_table_lists_every_registered_method() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[3:5] == [
        "make run    # creates .venv, installs, serves http://127.0.0.1:8000 with the cat",
        "make test   # creates .venv, installs the dev extras and Debian's chromium if missing,"
        " runs every test",
    ]
    for method in METHODS:
        assert f"| `{method.id}` | {method.name} |" in readme, method.id


def test_the_readme_method_table_says_which_views_each_method_has() -> None:
    """The README's table, column "views": the built views, then the declared ones to come."""
    words = {
        "image": "image",
        "feature_maps": "feature maps",
        "pooling": "pooling",
        "dense": "dense",
        "lstm": "LSTM",
        "uncertainty": "uncertainty",
        "compression": "compression",
        "residual": "residual",
    }
    assert set(words) == set(VIEW_LABELS)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    seen = set()
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        method = get_method(cells[0].strip("`"))
        built = views_of(method.id, method.views)
        to_come = [view for view in method.views if view not in built]
        expected = ", ".join(words[view] for view in built)
        if to_come:
            later = ", ".join(words[view] for view in to_come) + ": to come"
            expected = f"{expected} ({later})" if expected else later
        assert cells[-1] == expected, (method.id, cells[-1], expected)
        seen.add(method.id)
    assert seen == {method.id for method in METHODS}
