"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request

from groundwork.platform.api.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Models and indexes are loaded; the server can take traffic", response_model=None)
def readyz(request: Request) -> object:
    services = getattr(request.app.state, "services", None)
    if services is None:
        return error_response(503, "not_ready", "the server is starting")
    generation = services.generation
    model = "ready" if generation.generator() else ("unavailable" if generation.failure else "starting")
    return {"status": "ready", "language_model": model}
