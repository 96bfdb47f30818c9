"""JSON API: the registry, images, animation frames and code snippets.

Requests are stateless and deterministic: ``(method, parameters, seed, iteration, image)``
decide the answer, so frames are cacheable and any worker can serve any request.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dropouts.lab import snippets as code_snippets
from dropouts.lab.registry import (
    METHODS,
    SEED,
    Method,
    ParamValue,
    ViewSpec,
    get_method,
    get_view,
    validate_params,
    validate_view_params,
)
from dropouts.lab.views import BUILT, View, views_of
from dropouts.lab.views.matching import MATCHED, match_fraction

from .. import wire
from ..catalog import catalog
from ..config import Settings
from ..errors import ApiError
from ..grammar import DEFAULTS
from ..images import ImageStore, StoredImage
from ..scenes import SceneCache
from ..schemas import CodeOut, ErrorOut, ImageOut, MethodsOut, SnippetOut
from ..state import first_values
from ..studies import StudyCache
from ..untrained import setting

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 404: {"model": ErrorOut}})

IMMUTABLE = "public, max-age=31536000, immutable"
RESERVED = frozenset(
    {"view", "method", "image", "seed", "start", "count", "format", "masks", "fraction"}
)
VIEW_DESCRIPTION = (
    "The view: " + ", ".join(BUILT) + f" ({DEFAULTS.view} when absent, as in older links)."
)
UPLOAD_CHUNK = 1 << 16


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def store_of(request: Request) -> ImageStore:
    store: ImageStore = request.app.state.images
    return store


def scenes_of(request: Request) -> SceneCache:
    scenes: SceneCache = request.app.state.scenes
    return scenes


def studies_of(request: Request) -> StudyCache:
    studies: StudyCache = request.app.state.studies
    return studies


def image_out(image: StoredImage) -> ImageOut:
    return ImageOut(
        id=image.id,
        title=image.title,
        credit=image.credit,
        width=image.width,
        height=image.height,
        url=f"/api/images/{image.id}",
    )


def lookup_method(method_id: str, view: View[object] | None = None) -> Method:
    """The method, checked to be shown by ``view`` when one is given; 422 naming the field."""
    try:
        method = get_method(method_id)
    except KeyError:
        known = view.methods if view else tuple(m.id for m in METHODS)
        raise ApiError(422, "method", f"unknown method {method_id!r}", ", ".join(known)) from None
    if view is not None and not view.shows(method.id):
        built = views_of(method.id, method.views)
        shown = ", ".join(built) if built else "no view yet (" + ", ".join(method.views) + ")"
        raise ApiError(
            422,
            "method",
            f"{method.id} has no {view.id} view; its views: {shown}",
            ", ".join(view.methods),
        )
    return method


def lookup_view(view_id: str) -> tuple[View[object], ViewSpec]:
    """A built view and its registry entry; 422 naming the built views otherwise."""
    if view_id not in BUILT:
        raise ApiError(422, "view", f"no view {view_id!r}", ", ".join(BUILT))
    return BUILT[view_id], get_view(view_id)


def method_params(
    request: Request, method: Method, view: ViewSpec | None = None
) -> dict[str, ParamValue]:
    """The method's (and the view's own) parameters from the query string, checked against
    the registry."""
    query = first_values(request.query_params.multi_items())
    given = {key: value for key, value in query.items() if key not in RESERVED}
    own = {param.name for param in view.params} if view else set()
    params = validate_params(method, {k: v for k, v in given.items() if k not in own})
    if view is None:
        return params
    return params | validate_view_params(view, {k: v for k, v in given.items() if k in own})


@router.get("/methods", response_model=MethodsOut, summary="Every method, its paper and parameters")
def list_methods() -> MethodsOut:
    return catalog()


@router.get("/images", response_model=list[ImageOut], summary="The sample images")
def list_images(store: Annotated[ImageStore, Depends(store_of)]) -> list[ImageOut]:
    return [image_out(image) for image in store.samples()]


@router.post(
    "/images",
    response_model=ImageOut,
    status_code=201,
    summary="Upload an image (PNG, JPEG, WebP, GIF or BMP)",
    responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut}},
)
async def upload_image(
    request: Request,
    file: Annotated[UploadFile, File(description="The image file.")],
    store: Annotated[ImageStore, Depends(store_of)],
    settings: Annotated[Settings, Depends(settings_of)],
) -> ImageOut:
    """Resized to at most 512 px on its long side, EXIF orientation applied; named by its hash."""
    limit = settings.max_upload_bytes
    chunks, size = [], 0
    while chunk := await file.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiError(
                413, "file", "the file is too large", f"at most {limit // (1024 * 1024)} MB"
            )
        chunks.append(chunk)
    if size == 0:
        raise ApiError(422, "file", "the file is empty", "PNG, JPEG, WebP, GIF or BMP")
    stored = await run_in_threadpool(store.add, b"".join(chunks))
    return image_out(stored)


@router.get(
    "/images/{image_id}",
    summary="An image, normalised (RGB PNG, long side at most 512 px)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def get_image(image_id: str, store: Annotated[ImageStore, Depends(store_of)]) -> Response:
    image = store.get(image_id)
    return Response(image.png, media_type="image/png", headers={"Cache-Control": IMMUTABLE})


@router.get(
    "/frames",
    summary="Animation frames of a method in a view",
    response_class=Response,
    responses={200: {"content": {wire.MEDIA_TYPE: {}, "application/json": {}}}},
)
def get_frames(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    settings: Annotated[Settings, Depends(settings_of)],
    scenes: Annotated[SceneCache, Depends(scenes_of)],
    method: Annotated[str, Query(description="A method the view shows (see /api/methods).")],
    view: Annotated[str, Query(description=VIEW_DESCRIPTION)] = DEFAULTS.view,
    image: Annotated[str, Query(description="A sample name or an upload id.")] = DEFAULTS.image,
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)] = DEFAULTS.seed,
    start: Annotated[int, Query(ge=0, description="First iteration.")] = 0,
    count: Annotated[int, Query(ge=1, description="Number of iterations (at most 64).")] = 1,
    format: Annotated[Literal["binary", "json"], Query(description="See app/wire.py.")] = "binary",
    masks: Annotated[
        bool, Query(description="false: statistics only (up to 512 iterations), no masks.")
    ] = True,
) -> Response:
    """Masks and statistics of iterations ``start .. start + count - 1``.

    Also takes the method's parameters by name (``p=0.3&scaling=inverted``…), and the view's
    own (``map=edge_0`` for the pooling view), as listed by ``/api/methods``. Each iteration
    depends only on (view, method, parameters, seed, iteration, image), so the answer is
    cacheable. Each view's payload is described in app/wire.py.
    """
    shown, spec = lookup_view(view)
    chosen = lookup_method(method, shown)
    most = settings.max_frames_per_request if masks else settings.max_stats_per_request
    if count > most:
        raise ApiError(422, "count", f"{count} frames in one request", f"1 to {most}")
    last = min(settings.max_iteration, shown.max_iteration or settings.max_iteration)
    if start + count > last:
        raise ApiError(422, "start", "iteration out of range", f"0 to {last - count}")
    params = method_params(request, chosen, spec)
    picture = store.get(image)
    scene = scenes.get(shown, picture)
    with setting(shown.id, chosen.id, params, seed):
        theory = shown.theory(chosen.id, params, scene, seed=seed)
    frames = shown.frames(chosen.id, params, seed, range(start, start + count), scene, theory)
    context: dict[str, Any] = {
        "view": shown.id,
        "method": chosen.id,
        "image": picture.id,
        "width": picture.width,
        "height": picture.height,
        "seed": seed,
        "params": params,
    }
    header, payloads = wire.build_header(
        context, shown.theory_json(theory), frames, with_masks=masks
    )
    return _container(header, payloads, format)


@router.get("/match", summary="The setting of a method that drops a given expected fraction")
def get_match(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    scenes: Annotated[SceneCache, Depends(scenes_of)],
    method: Annotated[str, Query(description="A method the view shows.")],
    fraction: Annotated[float, Query(ge=0.0, le=1.0, description="The expected fraction.")],
    view: Annotated[str, Query(description=VIEW_DESCRIPTION)] = DEFAULTS.view,
    image: Annotated[str, Query(description="A sample name or an upload id.")] = DEFAULTS.image,
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)] = DEFAULTS.seed,
) -> dict[str, Any]:
    """For a comparison's "same dropped fraction": the method's parameters (those given, with
    its main one moved) whose expected dropped fraction on this image is ``fraction``, by the
    view's own theory. ``reached`` is false when the method cannot drop that much (Max-Drop
    removes only maxima); the nearest setting is given."""
    shown, spec = lookup_view(view)
    chosen = lookup_method(method, shown)
    params = method_params(request, chosen, spec)
    scene = scenes.get(shown, store.get(image))
    with setting(shown.id, chosen.id, params, seed):
        match = match_fraction(shown, chosen.id, params, scene, fraction, seed=seed)
    return {
        "method": chosen.id,
        "params": match.params,
        "parameter": MATCHED[chosen.id],
        "expected": match.expected,
        "reached": match.reached,
    }


@router.get(
    "/scene",
    summary="What a view draws once per image (the feature maps, their filters…)",
    response_class=Response,
    responses={200: {"content": {wire.MEDIA_TYPE: {}, "application/json": {}}}},
)
def get_scene(
    store: Annotated[ImageStore, Depends(store_of)],
    scenes: Annotated[SceneCache, Depends(scenes_of)],
    view: Annotated[str, Query(description=VIEW_DESCRIPTION)] = DEFAULTS.view,
    image: Annotated[str, Query(description="A sample name or an upload id.")] = DEFAULTS.image,
    format: Annotated[Literal["binary", "json"], Query(description="See app/wire.py.")] = "binary",
) -> Response:
    """The part of a view that does not change with the method, its parameters or the
    iteration: it depends on the image alone, so it is fetched once and cached for good."""
    shown, _ = lookup_view(view)
    picture = store.get(image)
    context = {"view": shown.id, "image": picture.id}
    header, payloads = wire.build_scene(context, scenes.get(shown, picture))
    return _container(header, payloads, format)


@router.get("/reconstruction", summary="Why pixel dropout fails: reconstruction PSNR by method")
def get_reconstruction(
    store: Annotated[ImageStore, Depends(store_of)],
    studies: Annotated[StudyCache, Depends(studies_of)],
    image: Annotated[str, Query(description="A sample name or an upload id.")] = DEFAULTS.image,
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)] = DEFAULTS.seed,
) -> JSONResponse:
    """On this image: standard dropout, Cutout, DropBlock and spatial dropout drop the same
    expected fractions (0.05 to 0.5); the dropped pixels are reconstructed from the kept ones
    (normalised convolution) and the PSNR is measured. Pixel dropout removes least: its curve
    lies above the others. With one example reconstruction per method (JPEG, at 25 %)."""
    return JSONResponse(studies.get(store.get(image), seed), headers={"Cache-Control": IMMUTABLE})


def _container(header: dict[str, Any], payloads: list[bytes], format: str) -> Response:
    headers = {"Cache-Control": IMMUTABLE}
    if format == "json":
        return JSONResponse(wire.to_json(header, payloads), headers=headers)
    return Response(wire.to_binary(header, payloads), media_type=wire.MEDIA_TYPE, headers=headers)


@router.get("/code", response_model=CodeOut, summary="The current setting as code")
def get_code(
    request: Request,
    method: Annotated[str, Query(description="Any method id.")],
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0))] = DEFAULTS.seed,
) -> CodeOut:
    """Snippets for torch, keras, timm, torchvision, albumentations and ``dropouts``."""
    chosen = lookup_method(method)
    params = method_params(request, chosen)
    return CodeOut(
        method=chosen.id,
        snippets=[SnippetOut(**asdict(s)) for s in code_snippets.snippets(chosen.id, params, seed)],
    )
