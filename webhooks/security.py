"""Twilio signature verification for every /twilio/* request."""

from __future__ import annotations

import hmac
import logging
from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from twilio.request_validator import RequestValidator

from outreach.core.deps import get_ctx

log = logging.getLogger(__name__)

URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # as Starlette's form parser: more fields is a 400


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
        form = await read_form(request)
    except Exception as exc:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 413:
            raise  # over the body limit
        raise HTTPException(status_code=400, detail="body is not a valid form") from exc
    if skip:
        return form
    url = public_url_for(request, ctx.settings.public_url)
    if not signature_matches(_validator(ctx.settings.twilio_auth_token), url, form, signature):
        log.warning("twilio request with a wrong signature", extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
    return form


async def read_form(request: Request) -> FormData:
    """The request's form. A urlencoded body (what Twilio sends) is split with the standard
    library's parse_qsl, decoded as Starlette's form parser decodes it (bytes as latin-1, then
    %-escapes as UTF-8) at a fraction of its cost; anything else goes to `request.form()`."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != URLENCODED:
        return await request.form()
    body = await request.body()
    fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    items: list[tuple[str, str | UploadFile]] = list(fields)
    return FormData(items)


def signature_matches(
    validator: RequestValidator, url: str, form: FormData, signature: str
) -> bool:
    """twilio's check of X-Twilio-Signature, for the URL as given first.

    `RequestValidator.validate` always signs the URL twice, with and without its port (Twilio
    signs either); the URL as given is one of the two, and only when it does not match is the
    library's full check run.
    """
    expected = validator.compute_signature(url, form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, form, signature))


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


SignedForm = Annotated[FormData, Depends(signed_form)]
