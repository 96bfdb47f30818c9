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

from dropouts import snippets as code_snippets
from dropouts.registry import METHODS, SEED, Method, ParamValue, get_method, validate_params
from dropouts.views.image import IMAGE_METHODS, image_frame, image_theory

from .. import wire
from ..catalog import catalog
from ..config import Settings
from ..errors import ApiError
from ..images import ImageStore, StoredImage
from ..schemas import CodeOut, ErrorOut, ImageOut, MethodsOut, SnippetOut

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 404: {"model": ErrorOut}})

IMMUTABLE = "public, max-age=31536000, immutable"
RESERVED = frozenset({"method", "image", "seed", "start", "count", "format", "masks"})
UPLOAD_CHUNK = 1 << 16


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def store_of(request: Request) -> ImageStore:
    store: ImageStore = request.app.state.images
    return store


def image_out(image: StoredImage) -> ImageOut:
    return ImageOut(
        id=image.id,
        title=image.title,
        credit=image.credit,
        width=image.width,
        height=image.height,
        url=f"/api/images/{image.id}",
    )


def lookup_method(method_id: str, *, need_image_view: bool = False) -> Method:
    try:
        method = get_method(method_id)
    except KeyError:
        known = IMAGE_METHODS if need_image_view else tuple(m.id for m in METHODS)
        raise ApiError(422, "method", f"unknown method {method_id!r}", ", ".join(known)) from None
    if need_image_view and method.id not in IMAGE_METHODS:
        views = ", ".join(method.views)
        raise ApiError(
            422,
            "method",
            f"{method.id} is shown on: {views}; it has no image view yet",
            ", ".join(IMAGE_METHODS),
        )
    return method


def method_params(request: Request, method: Method) -> dict[str, ParamValue]:
    """The method's parameters from the query string, checked against the registry."""
    given = {key: value for key, value in request.query_params.items() if key not in RESERVED}
    return validate_params(method, given)


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
    summary="Animation frames of a method on an image",
    response_class=Response,
    responses={200: {"content": {wire.MEDIA_TYPE: {}, "application/json": {}}}},
)
def get_frames(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    settings: Annotated[Settings, Depends(settings_of)],
    method: Annotated[str, Query(description="An image method: " + ", ".join(IMAGE_METHODS))],
    image: Annotated[str, Query(description="A sample name or an upload id.")] = "cat",
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)] = 0,
    start: Annotated[int, Query(ge=0, description="First iteration.")] = 0,
    count: Annotated[int, Query(ge=1, description="Number of iterations (at most 64).")] = 1,
    format: Annotated[Literal["binary", "json"], Query(description="See app/wire.py.")] = "binary",
    masks: Annotated[
        bool, Query(description="false: statistics only (up to 512 iterations), no masks.")
    ] = True,
) -> Response:
    """Masks and statistics of iterations ``start .. start + count - 1``.

    Also takes the method's parameters by name (``p=0.3&scaling=inverted``…), as listed by
    ``/api/methods``. Each iteration's mask depends only on (method, parameters, seed,
    iteration, image), so the answer is cacheable.
    """
    chosen = lookup_method(method, need_image_view=True)
    most = settings.max_frames_per_request if masks else settings.max_stats_per_request
    if count > most:
        raise ApiError(422, "count", f"{count} frames in one request", f"1 to {most}")
    if start + count > settings.max_iteration:
        raise ApiError(
            422, "start", "iteration out of range", f"0 to {settings.max_iteration - count}"
        )
    params = method_params(request, chosen)
    picture = store.get(image)
    theory = image_theory(chosen.id, params, picture.height, picture.width)
    frames = [
        image_frame(chosen.id, picture.tensor, params, seed, iteration, theory)
        for iteration in range(start, start + count)
    ]
    context: dict[str, Any] = {
        "method": chosen.id,
        "image": picture.id,
        "width": picture.width,
        "height": picture.height,
        "seed": seed,
        "params": params,
    }
    header, payloads = wire.build_header(context, theory, frames, with_masks=masks)
    headers = {"Cache-Control": IMMUTABLE}
    if format == "json":
        return JSONResponse(wire.to_json(header, payloads), headers=headers)
    return Response(wire.to_binary(header, payloads), media_type=wire.MEDIA_TYPE, headers=headers)


@router.get("/code", response_model=CodeOut, summary="The current setting as code")
def get_code(
    request: Request,
    method: Annotated[str, Query(description="Any method id.")],
    seed: Annotated[int, Query(ge=0, le=int(SEED.max or 0))] = 0,
) -> CodeOut:
    """Snippets for torch, keras, timm, torchvision, albumentations and ``dropouts``."""
    chosen = lookup_method(method)
    params = method_params(request, chosen)
    return CodeOut(
        method=chosen.id,
        snippets=[SnippetOut(**asdict(s)) for s in code_snippets.snippets(chosen.id, params, seed)],
    )
