"""Twilio signature verification for every /twilio/* request."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from outreach.core.deps import get_ctx

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024


def public_url_for(request: Request, public_base: str) -> str:
    """Rebuilds the URL Twilio signed: the configured public base + path + query."""
    url = public_base.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def signed_form(request: Request) -> FormData:
    """Parses the form and checks X-Twilio-Signature; 403 (and nothing recorded) if wrong."""
    ctx = get_ctx(request)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="request body too large")
    try:
        form = await request.form()
    except Exception as exc:
        raise HTTPException(status_code=400, detail="body is not a valid form") from exc
    if ctx.settings.insecure_skip_signature:
        return form
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        log.warning("twilio request without signature", extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="missing X-Twilio-Signature")
    validator = RequestValidator(ctx.settings.twilio_auth_token)
    url = public_url_for(request, ctx.settings.public_url)
    if not validator.validate(url, form, signature):
        log.warning("twilio request with a wrong signature", extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
    return form


SignedForm = Annotated[FormData, Depends(signed_form)]
