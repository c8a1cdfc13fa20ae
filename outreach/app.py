"""The application factory: one FastAPI app over one AppContext."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from outreach import __version__, jobs
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.limits import BodyLimits
from outreach.core.logs import setup_logging
from outreach.core.settings import Settings, get_settings
from outreach.web.api.airings import router as airings_router
from outreach.web.api.campaigns import router as campaigns_router
from outreach.web.api.errors import describe, message_422, responses
from outreach.web.api.reports import router as reports_router
from outreach.web.api.security import api_security
from outreach.web.audit.routes import router as audit_router
from outreach.web.auth.guard import WriteGuard
from outreach.web.auth.routes import router as auth_router
from outreach.web.auth.web import LoginRequired
from outreach.web.dashboard.routes import router as dashboard_router
from outreach.web.editor.routes import router as editor_router
from outreach.web.errors import error_page, is_page
from outreach.web.flows.media import router as media_router
from outreach.web.flows.phone import router as phone_router
from outreach.web.flows.routes import router as flows_router
from outreach.web.flows.simulator import router as simulator_router
from outreach.web.flows.sms_pane import router as sms_pane_router
from outreach.web.flows.versions import router as versions_router
from outreach.web.ops import router as ops_router
from outreach.web.pages import STATIC_DIR, templates
from outreach.web.request_metrics import RequestMetrics, add_request_id
from outreach.web.security_headers import SecurityHeadersMiddleware
from outreach.web.users.routes import router as users_router
from webhooks.http_channel import router as http_channel_router
from webhooks.kannel import router as kannel_router
from webhooks.sms import router as sms_router
from webhooks.sms_status import router as sms_status_router
from webhooks.studio import router as studio_router
from webhooks.voice import router as voice_router
from webhooks.voice_twiml import AUDIO_DIR

log = logging.getLogger(__name__)

SESSION_COOKIE = "outreach_session"
SESSION_MAX_AGE = 8 * 3600
# Every router of the service, mounted once, in _include_routers: the JSON API's with its
# security schemes and error responses declared.
PAGE_ROUTERS = (
    sms_router,
    sms_status_router,
    voice_router,
    studio_router,
    kannel_router,
    http_channel_router,
    auth_router,
    editor_router,
    users_router,
    audit_router,
    simulator_router,
    sms_pane_router,
    versions_router,
    phone_router,
    flows_router,
    dashboard_router,
    media_router,
)
API_ROUTERS = (reports_router, campaigns_router, airings_router)
ROUTERS = (*PAGE_ROUTERS, *API_ROUTERS)


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
        # Every background job, on the one scheduler `outreach worker` runs too; /readyz
        # then checks that it keeps ticking.
        heartbeat = jobs.Heartbeat()
        stop = jobs.start_in_service(ctx, heartbeat) if start_background else None
        app.state.heartbeat = heartbeat if stop is not None else None
        yield
        if stop is not None:
            stop()

    # /docs is served below from vendored Swagger UI assets: the service may run offline.
    app = FastAPI(
        title="Outreach", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.ctx = ctx
    app.add_middleware(SecurityHeadersMiddleware)

    # Every 422 has the declared HTTPValidationError shape: a list of {loc, msg, type}. Pages
    # answer errors with a page.
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):
            lines = [f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in describe(exc)]
            return error_page(request, 422, lines)
        return JSONResponse(status_code=422, content={"detail": describe(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request) and exc.status_code >= 400:
            page = error_page(request, exc.status_code, [str(exc.detail)])
            page.headers.update(exc.headers or {})
            return page
        if exc.status_code == 422:
            return JSONResponse(
                status_code=422, content={"detail": message_422(exc.detail)}, headers=exc.headers
            )
        return await http_exception_handler(request, exc)

    app.include_router(ops_router)  # /healthz, /readyz, /metrics

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        # Swagger UI is started by a static script (the CSP allows no inline script).
        return templates.TemplateResponse(
            request,
            "docs.html",
            {"title": "Outreach API", "openapi_url": app.openapi_url or "/openapi.json"},
        )

    # The last middleware added runs first. The write guard must run inside the session
    # middleware (added with the dashboard); the body limits wrap everything.
    app.add_middleware(WriteGuard)
    _include_routers(app)
    app.add_middleware(BodyLimits, settings=ctx.settings)
    # Outermost: every request (a 413 too) is counted and carries a request id in its logs.
    app.add_middleware(RequestMetrics)
    app.add_middleware(add_request_id)
    return app


def settle_heap() -> None:
    """Takes what start-up built (imports, the app, its routes) out of the cycle collector's view.

    A serving process keeps those objects to the end; with them a full collection walked the
    whole heap and stalled every request of the process for ~80 ms under load. Frozen, a
    collection only walks what requests create. (Not for tests: apps there come and go.)
    """
    gc.collect()
    gc.freeze()


def create_worker_app() -> FastAPI:
    """The app of one of several uvicorn workers (`outreach serve --workers N`).

    Each worker is a fresh interpreter: it reads the settings the parent put in its
    environment and sets up its own logs; the parent has already migrated the schema.
    """
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings, migrate=False)
    settle_heap()
    return app


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
    for router in PAGE_ROUTERS:
        app.include_router(router)
    # The JSON API: both security schemes declared, and the errors every route may answer
    # (report routes: 404 for an unknown campaign, 403 for the managers' FLOIP exports).
    security = api_security(SESSION_COOKIE)
    app.include_router(reports_router, dependencies=security, responses=responses(401, 403, 404))
    for router in (campaigns_router, airings_router):
        app.include_router(router, dependencies=security, responses=responses(401))
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.mount("/audio", StaticFiles(directory=AUDIO_DIR, check_dir=False), name="audio")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.get("/", include_in_schema=False)
    def _root() -> Response:
        return RedirectResponse("/dashboard", status_code=303)
