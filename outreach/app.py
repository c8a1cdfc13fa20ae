"""The application factory: one FastAPI app over one AppContext."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from outreach import __version__
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.web.api.errors import describe, message_422

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    ctx: AppContext | None = None,
    migrate: bool = True,
    start_background: bool = True,
) -> FastAPI:
    """Builds the app; upgrades the schema first (or raises SchemaError with the reason)."""
    if ctx is None:
        if settings is None:
            from outreach.core.settings import get_settings

            settings = get_settings()
        ctx = AppContext.from_settings(settings.ensure_secrets())
    if migrate:
        upgrade_schema(ctx.engine)
    if ctx.settings.insecure_skip_signature:
        log.warning(
            "OUTREACH_INSECURE_SKIP_SIGNATURE is on: Twilio signatures are NOT checked. "
            "Use this only for local development."
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stops = []
        if start_background:
            for starter in _background_starters():
                stop = starter(ctx)
                if stop is not None:
                    stops.append(stop)
        yield
        for stop in stops:
            stop()

    # /docs is served below from vendored Swagger UI assets: the service may run offline.
    app = FastAPI(
        title="Outreach", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.ctx = ctx

    # Every 422 has the declared HTTPValidationError shape: a list of {loc, msg, type}.
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": describe(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 422:
            return JSONResponse(
                status_code=422, content={"detail": message_422(exc.detail)}, headers=exc.headers
            )
        return await http_exception_handler(request, exc)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Outreach API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon.png",
        )

    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from webhooks.sms import router as sms_router

    app.include_router(sms_router)
    from outreach.web.dashboard.install import install as install_dashboard

    install_dashboard(app)
    from webhooks.sms_status import router as sms_status_router

    app.include_router(sms_status_router)
    from campaigns.voice.optin import register_voice_opt_in

    register_voice_opt_in()
    from fastapi.staticfiles import StaticFiles

    from webhooks.voice import router as voice_router
    from webhooks.voice_twiml import AUDIO_DIR

    app.include_router(voice_router)
    app.mount("/audio", StaticFiles(directory=AUDIO_DIR, check_dir=False), name="audio")


def _background_starters() -> list:  # type: ignore[type-arg]
    """Background services started with the app; each returns a stop function or None."""
    from campaigns.followups.tasks import start_in_service
    from campaigns.reports.tasks import start_refresher
    from campaigns.retention.tasks import start_purger
    from campaigns.voice.callbacks import start_callback_retries

    return [start_in_service, start_callback_retries, start_refresher, start_purger]
