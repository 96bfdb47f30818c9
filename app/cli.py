"""``dropout-lab``: the lab from the command line, for scripting a course's figures.

::

    dropout-lab render METHOD [--view V] [--image cat|astronaut|coffee|PATH] [--seed S]
        [--start I] [--frames N] [--size WxH] [--fps F] [--theme light|contrast] [--stats]
        --out FILE.gif|.mp4|.html [--PARAM VALUE ...]

Any other ``--name value`` is a parameter of the method or of the view (``--p 0.3``,
``--block_size 15``, ``--map edge_90``), checked against the registry as the web app checks
it. ``--b.method dropblock --b.p 0.3`` (and ``c.``, ``d.``) make a comparison whose first
panel is METHOD with the unprefixed parameters. The file is exactly what ``GET /api/export``
answers for the same state: the same function renders both. A picture given as a PATH is
normalised as an upload is (EXIF orientation, RGB, long side at most 512 px).

Errors name the option and what it allows, on stderr, with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from dropouts.lab.registry import ParamError

from .config import Settings
from .errors import ApiError
from .export import EXPORT_OPTIONS, FORMATS, option_names, parse_options, render_export
from .grammar import DEFAULTS, ITERATIONS, PANELS
from .images import SAMPLES, ImageStore, normalise, upload_id
from .serve import DEFAULT_HOST, DEFAULT_PORT, default_workers
from .serve import serve as serve_app
from .state import parse_state

EXTENSIONS = {".gif": "gif", ".mp4": "mp4", ".html": "html", ".htm": "html"}
# Query fields this command spells otherwise (--start is the state's first iteration, i).
FLAGS = {"i": "--start"}


class UsageError(Exception):
    def __init__(self, field: str, message: str, allowed: str = "") -> None:
        super().__init__(message)
        self.field, self.message, self.allowed = field, message, allowed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout-lab",
        description="Dropout Lab from the command line.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render = commands.add_parser(
        "render",
        help="render a view or a comparison to a GIF, an MP4 or a standalone HTML file",
        description="Render N iterations of a method (or a comparison) in a view to a file: the "
        "same frames as the web export. Any other --name value is a parameter of the method or "
        "of the view (--p 0.3, --block_size 15, --map edge_90); --b.method M --b.p 0.3 "
        "(c., d.) add panels to compare.",
    )
    render.add_argument("method", metavar="METHOD", help="a method id (see /api/methods)")
    render.add_argument("--view", help="the view (the method's first when absent)")
    render.add_argument(
        "--image",
        default=DEFAULTS.image,
        help="a sample (" + ", ".join(s.id for s in SAMPLES) + ") or the path of a picture",
    )
    render.add_argument("--seed", help=f"the seed (default {DEFAULTS.seed})")
    render.add_argument(
        "--start", help=f"the first iteration, 0-{ITERATIONS - 1} (default {DEFAULTS.i})"
    )
    render.add_argument("--frames", help="the number of frames, 1-200 (default 32)")
    render.add_argument("--resolution", help="WIDTHxHEIGHT, 64-1920 x 64-1080 (default 640x360)")
    render.add_argument(
        "--size",
        help="WIDTHxHEIGHT: the resolution (older name); a number: Cutout's hole size",
    )
    render.add_argument("--fps", help="frames per second, 1-30 (default 8)")
    render.add_argument("--theme", help="light (default) or contrast (white on black)")
    render.add_argument("--stats", action="store_true", help="html: statistics and a chart")
    render.add_argument("--out", required=True, help="the file: .gif, .mp4 or .html")
    serve = commands.add_parser(
        "serve",
        help="run the web app with several worker processes (a deployment)",
        description="Serve the lab on HOST:PORT with WORKERS processes sharing one upload "
        "directory (DROPOUT_LAB_UPLOADS). Each option defaults to the environment variable of "
        "its name, then to 127.0.0.1, 8000 and one worker per core.",
    )
    serve.add_argument("--host", default=os.environ.get("HOST", DEFAULT_HOST))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    serve.add_argument(
        "--workers", type=int, default=int(os.environ.get("WORKERS", 0)) or default_workers()
    )
    return parser


def _extra_params(tokens: Sequence[str]) -> dict[str, str]:
    """``--name value`` and ``--name=value`` pairs: the method's and the view's parameters."""
    params: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith("--") or token == "--":
            raise UsageError(token, "unexpected argument", "--name value pairs after METHOD")
        name, equals, value = token[2:].partition("=")
        if not equals:
            if index + 1 >= len(tokens):
                raise UsageError(name, "a value is required", "--name value")
            value = tokens[index + 1]
            index += 1
        params[name] = value
        index += 1
    return params


def _picture(image: str, settings: Settings) -> tuple[str, Tensor]:
    """The state's image id and the picture: a sample, or a file normalised as an upload."""
    if image in {sample.id for sample in SAMPLES}:
        return image, ImageStore(settings).get(image).tensor
    path = Path(image)
    if not path.is_file():
        known = ", ".join(sample.id for sample in SAMPLES)
        raise UsageError("image", f"no sample and no file {image!r}", f"{known}, or a path")
    data = path.read_bytes()
    if len(data) > settings.max_upload_bytes:
        limit = settings.max_upload_bytes // (1024 * 1024)
        raise UsageError("image", "the file is too large", f"at most {limit} MB")
    _, tensor = normalise(data, settings)
    return upload_id(data), tensor


def _query(args: argparse.Namespace, extra: dict[str, str], image_id: str) -> dict[str, str]:
    """The web export's query for these arguments."""
    query: dict[str, str] = {"image": image_id}
    if args.view:
        query["view"] = args.view
    if args.start is not None:
        query["i"] = args.start
    for name in ("seed", "frames", "resolution", "size", "fps", "theme"):
        value = getattr(args, name)
        if value is not None:
            query[name] = value
    if args.stats:
        query["stats"] = "true"
    compared = any(name.endswith(".method") for name in extra)
    if compared:
        query["a.method"] = args.method
        for name, value in extra.items():
            prefixed = "." in name and name.split(".", 1)[0] in PANELS
            query[name if prefixed else f"a.{name}"] = value
    else:
        query["method"] = args.method
        query |= extra
    return query


def _format(out: str) -> str:
    chosen = EXTENSIONS.get(Path(out).suffix.lower())
    if chosen is None:
        raise UsageError("out", f"{out!r} has no known extension", ", ".join(EXTENSIONS))
    return chosen


def render(args: argparse.Namespace, extra: Sequence[str]) -> int:
    settings = Settings()
    params = _extra_params(extra)
    clash = sorted(set(params) & (EXPORT_OPTIONS | {"image", "view", "seed", "method", "i"}))
    if clash:
        raise UsageError(clash[0], "is not a parameter here", "the options of dropout-lab render")
    image_id, picture = _picture(args.image, settings)
    query = _query(args, params, image_id)
    query["format"] = _format(args.out)
    state = parse_state(query, ignore=option_names(query))
    options = parse_options(query)
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\rrendering frame {done} of {total}", end="", file=sys.stderr, flush=True)

    export = render_export(state, options, picture, progress=progress)
    if show:
        print(file=sys.stderr)
    Path(args.out).write_bytes(export.data)
    width, height = options.size
    kind = FORMATS[options.format][0]
    print(
        f"{args.out}: {options.frames} frames, {width}x{height}, {options.fps} / s, {kind}, "
        f"{len(export.data)} bytes"
    )
    return 0


def _flag(field: str) -> str:
    """A field of the query as this command spells it."""
    if field in ("method", "a.method"):
        return "METHOD"
    return FLAGS.get(field, field if field.startswith("-") else f"--{field}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command == "render":
            return render(args, extra)
        if args.command == "serve":
            if extra:
                raise UsageError(extra[0], "unexpected argument", "--host, --port, --workers")
            serve_app(args.host, args.port, args.workers)
            return 0
    except (ApiError, ParamError, UsageError) as error:
        allowed = f" (allowed: {error.allowed})" if error.allowed else ""
        print(
            f"dropout-lab: error: {_flag(error.field)}: {error.message}{allowed}", file=sys.stderr
        )
        return 2
    except OSError as error:
        print(f"dropout-lab: error: {error}", file=sys.stderr)
        return 1
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
