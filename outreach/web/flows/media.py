"""Serves recordings to Twilio and the browser: unguessable token URLs, cached for good."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from campaigns.flows.audio import media_file
from outreach.core.deps import CtxDep

router = APIRouter(include_in_schema=False)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A token names one immutable recording (a new upload gets a new token), so caches may keep it.
CACHE = "public, max-age=31536000, immutable"


@router.get("/media/{token}.wav")
def recording(token: str, ctx: CtxDep) -> FileResponse:
    if not TOKEN.match(token):
        raise HTTPException(404, "no such recording")
    path = media_file(ctx.settings, token)
    if not path.is_file():
        raise HTTPException(404, "no such recording")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": CACHE})
