"""The web app: one static page and a small JSON API over a :class:`~ffnn.web.registry.Registry`.

Routes (every error is JSON ``{"error": "one line"}`` with a 4xx status)::

    GET  /                                  the page (static/index.html)
    GET  /static/{file}                     its script and style sheet, from the package only
    GET  /api/models                        the served models
    GET  /api/limits                        the largest upload and image accepted (the page checks files first)
    GET  /api/models/{name}/weights/{unit}  first-layer weights of one hidden unit, as an image
    POST /api/predict[?inspect=NAME]        multipart field "image": every model's prediction
    GET  /openapi.json                      the API's OpenAPI description
    GET  /docs                              Swagger UI on it, from local files (fastapi-offline's), no CDN
    /api/train...                           training from the page (:mod:`ffnn.web.training_api`)

Errors: 400 for a missing ``image`` field, a file that is not an image or
holds no digit, or a malformed request; 413 for a body over
:data:`~ffnn.web.upload.MAX_UPLOAD_BYTES` or an image over
:data:`~ffnn.web.upload.MAX_PIXELS`; 404 for unknown paths, models and units.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from .jobs import TrainLimits, Trainer
from .registry import Registry, UnknownModel
from .training_api import add_training_routes
from .upload import MAX_PIXELS, MAX_UPLOAD_BYTES, BodyLimit, TooLarge, UploadError, decode, preview

__all__ = ["create_app", "STATIC"]

STATIC = Path(__file__).with_name("static")

_PREDICT_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["image"],
    "properties": {"image": {"type": "string", "format": "binary",
                             "description": "an image file (PNG, JPEG, GIF, BMP, WebP, TIFF) of one digit"}}}}}}}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 404 and exc.detail == "Not Found":
            return _error(404, f"no such path: {request.url.path}")
        return _error(exc.status_code, exc.detail)

    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, f"{where}: {first.get('msg', 'invalid request')}")

    async def too_large(request: Request, exc: TooLarge):
        return _error(413, exc)

    async def bad_upload(request: Request, exc: UploadError):
        return _error(400, exc)

    async def unknown(request: Request, exc: UnknownModel):
        return _error(404, exc)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(TooLarge, too_large)
    app.add_exception_handler(UploadError, bad_upload)
    app.add_exception_handler(UnknownModel, unknown)


def _predict(registry: Registry, data: bytes, inspect: str | None) -> dict:
    steps = decode(data)
    x = steps.output.reshape(-1)
    top, left = steps.offset
    result = {
        "input": steps.output.tolist(),
        "predictions": registry.predict(x),
        "steps": {"gray": preview(steps.gray), "crop": preview(steps.crop), "fitted": preview(steps.fitted),
                  "sizes": {k: list(getattr(steps, k).shape) for k in ("gray", "crop", "fitted")},
                  "offset": [top, left], "center": [steps.center[0] + top, steps.center[1] + left]},
    }
    if inspect is not None:
        result["hidden"] = {"name": inspect, "layers": registry.get(inspect).hidden(x)}
    return result


def docs_assets() -> Path | None:
    """The directory of Swagger UI's script, style sheet and icon as the ``fastapi-offline`` package ships
    them, or None without it."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    path = Path(fastapi_offline.__file__).with_name("static")
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def _add_docs(app: FastAPI) -> None:
    """``/docs`` from local files: FastAPI's page loads Swagger UI from a CDN, blank offline. Without the
    files, ``/docs`` is a 404 that names ``/openapi.json``."""
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = docs_assets()
    if assets is None:
        @app.get("/docs", include_in_schema=False)
        def no_docs():
            return _error(404, "the API page needs the fastapi-offline package (pip install 'ffnn[web]'); "
                               "the API's description is at /openapi.json")
        return
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="ffnn API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")


def create_app(registry: Registry, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               limits: TrainLimits | None = None, on_new_run=None) -> FastAPI:
    """The ASGI app serving ``registry``; request bodies over ``max_upload_bytes`` get 413.

    ``limits`` bound what the page may train and say where its runs go
    (default :class:`~ffnn.web.jobs.TrainLimits`); ``on_new_run`` see
    :class:`~ffnn.web.jobs.Trainer`. When the app shuts down, a running
    training job is stopped and saved first.
    """
    trainer = Trainer(registry, limits, on_new_run)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(trainer.close)

    app = FastAPI(title="ffnn", version="1", summary="Draw a digit and watch each trained network read it.",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.registry = registry
    _add_docs(app)
    app.add_middleware(BodyLimit, limit=max_upload_bytes)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_training_routes(app, trainer)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/api/models", summary="The served models, their layer sizes, test accuracy and history")
    def models() -> list[dict]:
        return [m.describe() for m in registry.models.values()]

    @app.get("/api/limits", summary="The largest upload (bytes) and image (pixels) /api/predict accepts")
    def limits() -> dict:
        return {"max_upload_bytes": max_upload_bytes, "max_pixels": MAX_PIXELS}

    @app.get("/api/models/{name}/weights/{unit}", summary="First-layer weights of one hidden unit")
    def weights(name: str, unit: int) -> dict:
        w = registry.get(name).unit_weights(unit)
        return {"name": name, "unit": unit, "shape": list(w.shape), "scale": float(np.abs(w).max()),
                "weights": np.round(w, 5).tolist()}

    @app.post("/api/predict", openapi_extra=_PREDICT_BODY,
              summary="Every model's class probabilities for an uploaded image (multipart field 'image')")
    async def predict(request: Request, inspect: str | None = None) -> dict:
        if inspect is not None:
            registry.get(inspect)  # an unknown model is a 404 before the upload is read
        form = await request.form(max_files=1, max_fields=4)
        try:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise UploadError("missing the file field 'image' (send multipart/form-data with image=@FILE)")
            data = await upload.read()
        finally:
            await form.close()
        # A plain JSONResponse: FastAPI's encoder takes ~50 ms over the ~5,000 floats of an answer.
        return JSONResponse(await run_in_threadpool(_predict, registry, data, inspect))

    return app
