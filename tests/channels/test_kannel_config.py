"""`outreach kannel config`: an SMPP template for the operator, refusals of unsafe settings."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from outreach.cli import app as cli_app
from outreach.core.context import AppContext
from outreach.core.smstext import CODING_GSM7, CODING_UCS2, encode, is_gsm7
from tests.channels.conftest import KANNEL_NUMBER, SECRET
from tests.support.processes import service_env


def run(ctx: AppContext, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["kannel", "config", *args], env=service_env(ctx.settings))
    return result.exit_code, result.output


def groups(text: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("group")]


def test_the_default_config_has_an_smpp_group_to_fill_in(channels_ctx: AppContext) -> None:
    channels_ctx.settings = channels_ctx.settings.model_copy(
        update={"kannel_callback_url": "http://10.0.0.5:8000"}
    )
    code, text = run(channels_ctx)
    assert code == 0, text
    assert groups(text) == ["core", "smsc", "smsbox", "sendsms-user", "sms-service"]
    assert "smsc = smpp" in text and "smsc = fake" not in text
    assert f"my-number = {KANNEL_NUMBER}" in text
    assert 'password = "sendsms-password"' in text
    url = f"http://10.0.0.5:8000/channels/kannel/{SECRET}/mo?from=%p&to=%P&text=%a&id=%I"
    assert f'get-url = "{url}' in text
    assert "accept-x-kannel-headers = true" in text
    assert "\nglobal-sender" not in text
    assert "admin-password" in text and "change-me" not in text


def test_a_missing_or_unsafe_secret_is_refused(channels_ctx: AppContext, tmp_path: Path) -> None:
    for secret in ("", "short", "has%percent-0123456789", 'quote"-0123456789abc'):
        channels_ctx.settings = channels_ctx.settings.model_copy(update={"kannel_secret": secret})
        code, text = run(channels_ctx)
        assert code == 2 and "OUTREACH_KANNEL_SECRET" in text, (secret, text)


def test_a_missing_sendsms_password_is_refused(channels_ctx: AppContext) -> None:
    channels_ctx.settings = channels_ctx.settings.model_copy(update={"kannel_password": ""})
    code, text = run(channels_ctx)
    assert code == 2 and "OUTREACH_KANNEL_PASSWORD" in text


def test_gsm7_text_stays_gsm7_and_azerbaijani_or_cyrillic_is_ucs2() -> None:
    assert is_gsm7("Salam! Call +994125550100 @ 10:00") and not is_gsm7("iş")
    assert encode("a" * 160).segments == 1 and encode("a" * 161).segments == 2
    assert encode("€" * 80).segments == 1 and encode("€" * 81).segments == 2  # two septets each
    azeri = encode("ə" * 70)
    assert (azeri.coding, azeri.segments, azeri.charset) == (CODING_UCS2, 1, "UTF-16BE")
    assert encode("ə" * 71).segments == 2 and encode("д" * 135).segments == 3
    assert encode("hello").coding == CODING_GSM7
