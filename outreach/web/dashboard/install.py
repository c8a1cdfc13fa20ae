"""Wires the dashboard, login, JSON API and static assets into the app."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from outreach.core.context import AppContext
from outreach.web.api.errors import responses
from outreach.web.api.security import api_security
from outreach.web.auth.web import LoginRequired
from outreach.web.dashboard.templates import STATIC_DIR

SESSION_COOKIE = "outreach_session"
SESSION_MAX_AGE = 8 * 3600


def install(app: FastAPI) -> None:
    """Adds the session middleware, static files, pages and API routes."""
    from outreach.web.api.airings import router as airings_router
    from outreach.web.api.campaigns import router as campaigns_router
    from outreach.web.api.reports import router as reports_router
    from outreach.web.auth.routes import router as auth_router
    from outreach.web.dashboard.routes import router as dashboard_router

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
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for router in (auth_router, dashboard_router):
        app.include_router(router)
    # The JSON API: both security schemes declared, and the errors every route may answer
    # (report routes: 404 for an unknown campaign, 403 for the managers' FLOIP exports).
    security = api_security(SESSION_COOKIE)
    app.include_router(reports_router, dependencies=security, responses=responses(401, 403, 404))
    for router in (campaigns_router, airings_router):
        app.include_router(router, dependencies=security, responses=responses(401))

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.get("/", include_in_schema=False)
    def _root() -> Response:
        return RedirectResponse("/dashboard", status_code=303)
