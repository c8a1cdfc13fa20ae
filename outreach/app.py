"""The application factory: one FastAPI app over one AppContext."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from outreach import __version__
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.web.api.airings import router as airings_router
from outreach.web.api.campaigns import router as campaigns_router
from outreach.web.api.reports import router as reports_router
from outreach.web.auth.routes import router as auth_router
from outreach.web.auth.web import LoginRequired
from outreach.web.dashboard.routes import router as dashboard_router
from outreach.web.dashboard.templates import STATIC_DIR
from webhooks.sms import router as sms_router
from webhooks.sms_status import router as sms_status_router
from webhooks.voice import router as voice_router
from webhooks.voice_twiml import AUDIO_DIR

log = logging.getLogger(__name__)

SESSION_COOKIE = "outreach_session"
SESSION_MAX_AGE = 8 * 3600
# Every router of the service, mounted once, here.
ROUTERS = (
    sms_router,
    sms_status_router,
    voice_router,
    auth_router,
    dashboard_router,
    reports_router,
    campaigns_router,
    airings_router,
)


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

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _describe(exc)})

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


def _describe(exc: RequestValidationError) -> list[dict[str, object]]:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]


def _include_routers(app: FastAPI) -> None:
    """Adds the session middleware, every router, static files and the login redirect."""
    ctx: AppContext = app.state.ctx
    app.add_middleware(
        SessionMiddleware,
        secret_key=ctx.settings.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        # Secure cookies whenever the service is published over HTTPS.
        https_only=ctx.settings.public_url.startswith("https://"),
    )
    from campaigns.voice.optin import register_voice_opt_in

    register_voice_opt_in()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.mount("/audio", StaticFiles(directory=AUDIO_DIR, check_dir=False), name="audio")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.get("/", include_in_schema=False)
    def _root() -> Response:
        return RedirectResponse("/dashboard", status_code=303)


def _background_starters() -> list:  # type: ignore[type-arg]
    """Background services started with the app; each returns a stop function or None."""
    from campaigns.followups.tasks import start_in_service
    from campaigns.reports.tasks import start_refresher
    from campaigns.retention.tasks import start_purger
    from campaigns.voice.callbacks import start_callback_retries

    return [start_in_service, start_callback_retries, start_refresher, start_purger]
