"""The JSON API's security schemes, declared for OpenAPI (and the Authorize button of /docs).

Either scheme is enough: a bearer token (`outreach users token NAME`) or the dashboard session
cookie (writes then also need the X-CSRF-Token header). The declarations never refuse a request
themselves (auto_error=False); outreach.web.auth.web.api_user checks the credentials.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.security import APIKeyCookie, HTTPBearer


def api_security(cookie_name: str) -> list[Any]:
    """Dependencies that declare the bearer and session-cookie schemes on a router's routes."""
    bearer = HTTPBearer(
        auto_error=False,
        scheme_name="bearer",
        description="An API token: `Authorization: Bearer TOKEN` (outreach users token NAME)",
    )
    cookie = APIKeyCookie(
        name=cookie_name,
        auto_error=False,
        scheme_name="session",
        description="The dashboard session cookie; writes also need the X-CSRF-Token header",
    )
    return [Security(bearer), Security(cookie)]
