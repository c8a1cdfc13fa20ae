"""The signed-form reader of the Twilio webhooks against the libraries it stands in for.

`read_form` splits urlencoded bodies with parse_qsl instead of Starlette's form parser, and
`signature_matches` signs the URL as given before falling back to twilio's full check. Each
must answer exactly what the library would, for any body, URL and signature.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from webhooks.security import read_form, signature_matches

TOKEN = "12345678901234567890123456789012"
URLENCODED = "application/x-www-form-urlencoded"

# Text with the characters a form body escapes or splits on, and non-ASCII ones.
TEXT = st.text(alphabet=st.sampled_from(list("aZ09 +&=%;?#/:.-_~éşİıəЖ€\u0000\n\t😀")), max_size=12)
FIELDS = st.lists(st.tuples(TEXT, TEXT), max_size=8)
# Raw bodies, as a client (or an attacker) may send them: not always urlencode's output.
RAW = st.lists(
    st.sampled_from(
        ["a", "=", "&", "+", "%", "%2", "%20", "%zz", "%C3%A9", "%FF", "é", ";", "==", "&&", " "]
    ),
    max_size=16,
).map("".join)


def _request(body: bytes, content_type: str = URLENCODED) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/twilio/sms",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)  # type: ignore[arg-type]


def _both(body: bytes, content_type: str = URLENCODED) -> tuple[list[object], list[object]]:
    async def run() -> tuple[FormData, FormData]:
        return await read_form(_request(body, content_type)), await _request(
            body, content_type
        ).form()

    ours, starlette = asyncio.run(run())
    return list(ours.multi_items()), list(starlette.multi_items())


@settings(max_examples=300, deadline=None)
@given(FIELDS)
def test_an_encoded_form_reads_as_starlette_reads_it(fields: list[tuple[str, str]]) -> None:
    body = urlencode(fields).encode()
    ours, starlette = _both(body)
    assert ours == starlette
    assert ours == fields


@settings(max_examples=300, deadline=None)
@given(RAW, st.sampled_from(["utf-8", "latin-1"]))
def test_any_raw_body_reads_as_starlette_reads_it(raw: str, encoding: str) -> None:
    ours, starlette = _both(raw.encode(encoding))
    assert ours == starlette


def test_the_charset_parameter_still_reads_the_body() -> None:
    ours, starlette = _both(b"Body=%C5%9F+1&To=%2B994", f"{URLENCODED}; charset=UTF-8")
    assert ours == starlette == [("Body", "ş 1"), ("To", "+994")]


def test_too_many_fields_are_refused() -> None:
    body = "&".join(f"f{i}=x" for i in range(1001)).encode()
    with pytest.raises(ValueError):
        asyncio.run(read_form(_request(body)))

    # Starlette's parser refuses the same count (the webhook answers 400 either way).
    async def starlette_form() -> FormData:
        return await _request(body).form()

    with pytest.raises(Exception, match="Too many fields"):
        asyncio.run(starlette_form())


URLS = st.sampled_from(
    [
        "https://outreach.example.org/twilio/sms",
        "https://outreach.example.org:443/twilio/sms",
        "https://outreach.example.org:8443/twilio/voice/step?seq=2&flow=a%20b",
        "http://127.0.0.1:8000/twilio/voice",
        "http://outreach.example.org/twilio/sms?x=1",
    ]
)


def _variants(url: str) -> list[str]:
    """The URL, and the ones Twilio may have signed instead (port added or removed)."""
    out = [url]
    for port in (":443", ":80", ":8443", ":8000"):
        out.append(url.replace(port, "", 1))
    host = url.split("/")[2]
    if ":" not in host:
        default = ":443" if url.startswith("https") else ":80"
        out.append(url.replace(host, host + default, 1))
    return list(dict.fromkeys(out))


@settings(max_examples=300, deadline=None)
@given(URLS, FIELDS, st.data())
def test_a_signature_is_accepted_exactly_when_twilio_accepts_it(
    url: str, fields: list[tuple[str, str]], data: st.DataObject
) -> None:
    validator = RequestValidator(TOKEN)
    form = FormData(fields)
    signed_url = data.draw(st.sampled_from([*_variants(url), url + "/other"]))
    signature = data.draw(
        st.sampled_from(
            [
                validator.compute_signature(signed_url, form),
                RequestValidator("other" + TOKEN[5:]).compute_signature(url, form),
                "",
                "not base64 é",
            ]
        )
    )
    assert signature_matches(validator, url, form, signature) == validator.validate(
        url, form, signature
    )


def test_the_url_with_its_port_and_without_are_both_accepted() -> None:
    validator = RequestValidator(TOKEN)
    form = FormData([("Body", "iş"), ("From", "+994501234567")])
    url = "https://outreach.example.org/twilio/sms"
    for signed in (url, "https://outreach.example.org:443/twilio/sms"):
        signature = validator.compute_signature(signed, form)
        assert signature_matches(validator, url, form, signature)
    assert not signature_matches(validator, url, form, validator.compute_signature(url + "x", form))
