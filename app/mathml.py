"""LaTeX formulas of the registry rendered to MathML on the server (no math font CDN needed)."""

from __future__ import annotations

from functools import lru_cache

from latex2mathml.converter import convert


@lru_cache(maxsize=256)
def to_mathml(latex: str) -> str:
    return convert(latex, display="block")
