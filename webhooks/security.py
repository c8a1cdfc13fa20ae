"""Twilio signature verification for every /twilio/* request."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from twilio.request_validator import RequestValidator

from outreach.core.deps import get_ctx

log = logging.getLogger(__name__)


def public_url_for(request: Request, public_base: str) -> str:
    """Rebuilds the URL Twilio signed: the configured public base + path + query."""
    url = public_base.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def signed_form(request: Request) -> FormData:
    """Parses the form and checks X-Twilio-Signature; 403 (and nothing recorded) if wrong.

    The body's size is capped before this by the app's body limits (413, body_limit_twilio).
    """
    ctx = get_ctx(request)
    skip = ctx.settings.insecure_skip_signature
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature and not skip:
        # Refused before the body is read.
        log.warning("twilio request without signature", extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="missing X-Twilio-Signature")
    try:
        form = await request.form()
    except Exception as exc:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 413:
            raise  # over the body limit
        raise HTTPException(status_code=400, detail="body is not a valid form") from exc
    if skip:
        return form
    validator = RequestValidator(ctx.settings.twilio_auth_token)
    url = public_url_for(request, ctx.settings.public_url)
    if not validator.validate(url, form, signature):
        log.warning("twilio request with a wrong signature", extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
    return form


SignedForm = Annotated[FormData, Depends(signed_form)]
