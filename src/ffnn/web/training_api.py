"""The training routes of the web app: start a job, watch its events, stop it, list the jobs.

Routes (errors are JSON ``{"error": "one line"}``; a bad setting adds ``"field"``)::

    GET    /api/train/options      what the form offers: backends, choices, ffnn train's defaults, bounds
    POST   /api/train              a flat JSON object of settings -> 202 {"id": ...}
    GET    /api/train              the jobs, newest last
    GET    /api/train/{id}         one job
    GET    /api/train/{id}/events  its events as Server-Sent Events, resumed after Last-Event-ID
    DELETE /api/train/{id}         stop it as Ctrl-C stops ffnn train (it is saved with its finished epochs)

Statuses: 400 for a bad setting (naming it in ``field``), 409 while another
job runs, 404 for an unknown job.

Every event of a job is kept, with ids 1, 2, 3, ... A stream sends those
after ``Last-Event-ID`` (the header a browser's ``EventSource`` sends when it
reconnects) or ``?after=N``, then each new one as it comes, and ends after
the job's last event (``done`` or ``error``); a client that asks again after
that gets 204, which tells ``EventSource`` to stop reconnecting. A client
that goes away changes nothing for the job.
"""
from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import ConfigError
from .jobs import Busy, Trainer, UnknownJob, options

__all__ = ["add_training_routes", "PING_SECONDS"]

PING_SECONDS = 15  # a comment line this often keeps proxies and idle timeouts from closing a quiet stream
_CHECK_SECONDS = 1.0  # a waiting stream looks at least this often whether the server is stopping

_BODY = {"requestBody": {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False,
    "description": "Training settings; a missing one takes ffnn train's default.",
    "properties": {
        "backend": {"type": "string", "description": "numpy, torch or tensorflow (an installed one)"},
        "n_train": {"type": ["integer", "null"], "description": "train on the first N images (null: all)"},
        "val_size": {"type": "number", "description": "validation share (fraction) or count; 0 for none"},
        "layer_sizes": {"type": "array", "items": {"type": "integer"},
                        "description": "the whole network, [784, hidden..., 10]"},
        "epochs": {"type": "integer"}, "batch_size": {"type": "integer"}, "learning_rate": {"type": "number"},
        "loss": {"type": "string"}, "activation": {"type": "string"}, "momentum": {"type": "number"},
        "schedule": {"type": "string"}, "seed": {"type": "integer"},
        "early_stopping": {"type": ["integer", "null"], "description": "patience in epochs (null: off)"},
    }}}}}}


def _error(status: int, message, **extra) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split()), **extra}, status_code=status)


def _last_id(request: Request, after: int | None) -> int:
    header = request.headers.get("last-event-id")
    if header is None:
        return max(0, after or 0)
    try:
        return max(0, int(header))
    except ValueError:
        raise ConfigError("Last-Event-ID", f"must be an event id (an integer), got {header!r}") from None


def add_training_routes(app: FastAPI, trainer: Trainer) -> None:
    """Add the routes above to ``app``, served by ``trainer``."""
    from sse_starlette import EventSourceResponse, ServerSentEvent

    app.state.trainer = trainer

    async def config_error(request: Request, exc: ConfigError):
        return _error(400, exc, field=exc.field)

    async def busy(request: Request, exc: Busy):
        return _error(409, exc, running=exc.job.id if exc.job is not None else None)

    async def unknown(request: Request, exc: UnknownJob):
        return _error(404, exc)

    app.add_exception_handler(ConfigError, config_error)
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(UnknownJob, unknown)

    @app.get("/api/train/options", summary="What the training form offers: backends, choices, defaults, bounds")
    def train_options() -> dict:
        return options(trainer.limits)

    @app.post("/api/train", status_code=202, openapi_extra=_BODY,
              summary="Start training a network (one job at a time); its events stream from /api/train/{id}/events")
    async def start(request: Request):
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"the body must be a JSON object of training settings ({exc})", field="body")
        job = await run_in_threadpool(trainer.start, body)
        return JSONResponse({"id": job.id, "events": f"/api/train/{job.id}/events", "settings": job.request.describe()},
                            status_code=202)

    @app.get("/api/train", summary="The training jobs, newest last")
    def jobs() -> list[dict]:
        return [j.describe() for j in list(trainer.jobs.values())]

    @app.get("/api/train/{job_id}", summary="One training job")
    def job(job_id: str) -> dict:
        return trainer.get(job_id).describe()

    @app.delete("/api/train/{job_id}", summary="Stop a job as Ctrl-C would: it is saved with its finished epochs")
    async def stop(job_id: str) -> dict:
        return (await run_in_threadpool(trainer.stop, job_id)).describe()

    @app.get("/api/train/{job_id}/events", response_class=Response,
             summary="A job's events as Server-Sent Events (progress, epoch, diagnosis, done, error)")
    async def events(request: Request, job_id: str, after: int | None = None):
        job = trainer.get(job_id)
        last = _last_id(request, after)
        if job.over and last >= len(job.events):
            return Response(status_code=204)  # nothing more will come: EventSource stops reconnecting

        async def stream():
            nonlocal last
            while True:
                over = job.over  # read before the events: a job over has its last event in the list
                for event in job.after(last):
                    last = event.id
                    yield ServerSentEvent(data=json.dumps(event.data, allow_nan=False), event=event.type,
                                          id=str(event.id))
                if over and last >= len(job.events):
                    return
                if trainer.closing:
                    return
                await job.wait(last, _CHECK_SECONDS)

        return EventSourceResponse(stream(), ping=PING_SECONDS, headers={"Cache-Control": "no-store"})
