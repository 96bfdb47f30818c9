"""Response models: what /docs shows and what the API returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str = Field(description="The request field that was wrong.")
    message: str = Field(description="What was wrong with it.")
    allowed: str = Field(description="What the field accepts.")


class ErrorOut(BaseModel):
    error: ErrorDetail


class PaperOut(BaseModel):
    authors: str
    year: int
    title: str
    venue: str
    url: str


class ParamOut(BaseModel):
    name: str = Field(description="Query-string name of the parameter.")
    label: str
    default: float | int | str | bool | None
    help: str
    kind: str = Field(description="float, int, choice or bool.")
    min: float | None
    max: float | None
    step: float | None
    choices: list[str]
    nullable: bool = Field(description="Accepts an empty value meaning 'derived' (auto).")
    choice_labels: list[str] = Field(description="What each choice means, where not obvious.")
    group: str = Field(description="Where the page shows it ('' with the controls, 'training').")


class MethodOut(BaseModel):
    id: str
    name: str
    family: str
    papers: list[PaperOut]
    views: list[str]
    summary: str
    formula: str = Field(description="LaTeX.")
    formula_mathml: str = Field(description="The formula as MathML, rendered on the server.")
    test_time: str
    notes: list[str]
    function: str = Field(description="Where the method lives in the dropouts library.")
    params: list[ParamOut]
    image_view: bool = Field(description="Whether /api/frames can show it on an image.")
    built_views: list[str] = Field(
        description="The views of `views` that /api/frames can show it in, in that order."
    )


class FamilyOut(BaseModel):
    id: str
    label: str


class ViewOut(BaseModel):
    id: str = Field(description="The `view=` of /api/frames and of the page's URL.")
    label: str
    built: bool = Field(description="Whether /api/frames can show this view yet.")
    params: list[ParamOut] = Field(description="The view's own parameters (what is shown).")


class MethodsOut(BaseModel):
    families: list[FamilyOut]
    views: dict[str, str]
    view_specs: list[ViewOut]
    seed: ParamOut
    methods: list[MethodOut]


class ImageOut(BaseModel):
    id: str = Field(description="A sample's name, or 'u' + 24 hex digits of the upload's SHA-256.")
    title: str
    credit: str
    width: int
    height: int
    url: str


class SnippetOut(BaseModel):
    framework: str
    label: str
    code: str
    note: str


class CodeOut(BaseModel):
    method: str
    snippets: list[SnippetOut]


FramesJson = dict[str, Any]
