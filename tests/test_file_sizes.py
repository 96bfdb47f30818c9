"""Small rooms (issue 17): no source file is over 400 lines, but declared data.

Counted: the Python of the library, the lab, the app and the benchmarks (``dropouts/``,
``app/``, ``benchmarks/``), the page's ES modules (``static/js/``) and its stylesheets
(``static/css/``). A file over the limit is named below with the reason it may be, and the
allow-list is kept honest both ways: a named file that is no longer over the limit is an error
too, so that the list only shrinks.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400
SOURCES: tuple[tuple[str, str], ...] = (
    ("dropouts", "*.py"),
    ("app", "*.py"),
    ("benchmarks", "*.py"),
    ("static/js", "*.js"),
    ("static/css", "*.css"),
)

# Declared data: the registry's tables (every method, its parameters, papers and views).
DECLARED_DATA: frozenset[str] = frozenset({"dropouts/lab/registry.py"})

ALLOWED = DECLARED_DATA


def line_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for folder, pattern in SOURCES:
        for path in sorted((ROOT / folder).rglob(pattern)):
            if "__pycache__" in path.parts:
                continue
            with path.open(encoding="utf-8") as handle:
                counts[path.relative_to(ROOT).as_posix()] = sum(1 for _ in handle)
    return counts


def test_no_source_file_is_over_the_limit() -> None:
    over = {
        path: lines
        for path, lines in line_counts().items()
        if lines > LIMIT and path not in ALLOWED
    }
    assert not over, f"over {LIMIT} lines (split them by concern): {over}"


def test_every_file_allowed_over_the_limit_still_is() -> None:
    counts = line_counts()
    missing = sorted(path for path in ALLOWED if path not in counts)
    assert not missing, f"named in the allow-list but not found: {missing}"
    small = sorted(path for path in ALLOWED if counts[path] <= LIMIT)
    assert not small, f"no longer over {LIMIT} lines: take them off the allow-list: {small}"


def test_the_count_sees_every_kind_of_source() -> None:
    counts = line_counts()
    for folder, pattern in SOURCES:
        suffix = pattern.removeprefix("*")
        assert any(p.startswith(f"{folder}/") and p.endswith(suffix) for p in counts), folder
