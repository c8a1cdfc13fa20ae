"""Contact ids and countries: what an interaction keeps of a phone number."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

import phonenumbers
import pytest

from outreach.core.privacy import contact_id, country_of, identify


@pytest.mark.parametrize(
    "number",
    [
        "+994501234567",
        " +994 50 123 45 67 ",
        "+15005550006",
        "0501234567",
        "",
        "not a number",
        quote("+994501234567"),
        "+99450123456789012",
    ],
)
def test_identify_is_the_contact_id_and_the_country(number: str) -> None:
    # Written out with phonenumbers here, not with the functions identify now serves.
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    e164 = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    key = "key"
    expected = hmac.new(key.encode(), (e164 or number.strip()).encode(), hashlib.sha256)
    country = None if parsed is None else phonenumbers.region_code_for_number(parsed)
    assert identify(number, key) == (expected.hexdigest(), country)
    assert (contact_id(number, key), country_of(number)) == identify(number, key)
