"""The flow editor over HTTP: managers only (CSRF), live check, uploads, publish, simulator."""

from __future__ import annotations

import io
import re
import subprocess
import wave
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.flows import service
from campaigns.flows.imports import import_file
from campaigns.registry.models import Interaction
from campaigns.reports import service as reports
from campaigns.reports.filters import ReportFilter
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import PUBLIC_URL
from tests.support.flows import DEMO_FLOWS
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401
from tests.support.voice import HOTLINE, OPEN, RADIO, Caller, record, verbs

HOTLINE_FILE = DEMO_FLOWS / "hotline.yaml"
SOURCE = HOTLINE_FILE.read_text(encoding="utf-8")
SLOT = "intro/prompt/az"


def tone(path: Path, seconds: float = 1.0, rate: int = 22050) -> bytes:
    """A real stereo WAV made by SoX (the upload a manager would send)."""
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", "2", str(path), "synth", str(seconds), "sine", "440"],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture
def editor(loaded: AppContext, tmp_path: Path) -> AppContext:
    loaded.settings = loaded.settings.model_copy(update={"media_dir": str(tmp_path / "media")})
    loaded.clock = lambda: OPEN
    with loaded.sessions.begin() as session:
        import_file(session, HOTLINE_FILE, user="test", settings=loaded.settings)
    make_user(loaded, "manager", Role.MANAGER)
    make_user(loaded, "viewer", Role.VIEWER)
    return loaded


@pytest.fixture
def manager(editor: AppContext, web: TestClient) -> Iterator[tuple[TestClient, str]]:  # noqa: F811
    assert login(web, "manager").status_code == 303
    page = web.get("/dashboard/flows/hotline")
    assert page.status_code == 200
    yield web, csrf_of(page.text)


PAGES = ["/dashboard/flows", "/dashboard/flows/hotline", "/dashboard/flows/hotline/diff?a=1&b=1"]
WRITES = [
    "/import",
    "/new",
    "/hotline/save",
    "/hotline/publish",
    "/hotline/audio",
    "/hotline/simulate",
]


def test_a_viewer_can_open_none_of_it_and_forged_writes_are_refused(
    editor: AppContext,
    web: TestClient,  # noqa: F811
) -> None:
    assert login(web, "viewer").status_code == 303
    for path in PAGES:
        assert web.get(path).status_code == 403, path
    csrf = csrf_of(web.get("/dashboard").text)
    for path in WRITES:
        answer = web.post("/dashboard/flows" + path, data={"csrf_token": csrf, "number": "1"})
        assert answer.status_code == 403, path
    assert "/dashboard/flows" not in web.get("/dashboard").text


def test_a_manager_write_without_the_csrf_token_is_refused(manager: tuple[TestClient, str]) -> None:
    client, _ = manager
    assert client.post("/dashboard/flows/hotline/publish", data={"number": "1"}).status_code == 403
    forged = client.post("/dashboard/flows/hotline/check", json={"source": SOURCE})
    assert forged.status_code == 403


def test_the_live_check_puts_each_error_on_its_line(manager: tuple[TestClient, str]) -> None:
    client, csrf = manager
    broken = SOURCE.replace("    next: psa\n", "    next: nowhere\n")
    answer = client.post(
        "/dashboard/flows/hotline/check", json={"source": broken}, headers={"X-CSRF-Token": csrf}
    ).json()
    line = broken.splitlines().index("    next: nowhere") + 1
    assert {"line": line, "location": "nodes.intro.next", "message": "unknown node 'nowhere'"} in (
        answer["issues"]
    )
    intro = next(n for n in answer["graph"]["nodes"] if n["id"] == "intro")
    assert intro["dangling"] == ["nowhere"]


def test_a_text_file_named_wav_is_refused(manager: tuple[TestClient, str]) -> None:
    client, csrf = manager
    answer = client.post(
        "/dashboard/flows/hotline/audio",
        data={"slot": SLOT},
        files={"file": ("welcome.wav", b"this is only text, not a recording\n", "audio/wav")},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 422
    assert "not a WAV or MP3" in answer.json()["detail"]


def test_a_too_long_recording_is_refused_with_its_length(
    manager: tuple[TestClient, str], editor: AppContext, tmp_path: Path
) -> None:
    client, csrf = manager
    editor.settings = editor.settings.model_copy(update={"audio_max_seconds": 2.0})
    data = tone(tmp_path / "long.wav", seconds=3)
    answer = client.post(
        "/dashboard/flows/hotline/audio",
        data={"slot": SLOT},
        files={"file": ("long.wav", data, "audio/wav")},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 422 and "lasts 3 s; at most 2 s" in answer.json()["detail"]


def test_a_real_wav_is_normalised_published_and_played_by_the_voice_webhook(
    manager: tuple[TestClient, str], editor: AppContext, tmp_path: Path
) -> None:
    client, csrf = manager
    data = tone(tmp_path / "in.wav")
    answer = client.post(
        "/dashboard/flows/hotline/audio",
        data={"slot": SLOT},
        files={"file": ("intro.wav", data, "audio/wav")},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 2 and re.fullmatch(r"/media/[A-Za-z0-9_-]{32}\.wav", body["url"])
    served = client.get(body["url"])
    assert served.status_code == 200 and served.headers["cache-control"].endswith("immutable")
    with wave.open(io.BytesIO(served.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    published = client.post(
        "/dashboard/flows/hotline/publish", data={"number": "2", "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert published.status_code == 303
    call = Caller(client, HOTLINE)
    call.start()
    call.press("1")  # Azerbaijani, then the intro
    plays = [v.text for v in verbs(call.twiml) if v.tag == "Play"]
    assert PUBLIC_URL + body["url"] in plays


def test_the_simulator_walks_language_topic_goodbye_and_is_not_counted(
    manager: tuple[TestClient, str], editor: AppContext
) -> None:
    client, csrf = manager
    headers = {"X-CSRF-Token": csrf}
    first = client.post("/dashboard/flows/hotline/simulate", json={"version": 1}, headers=headers)
    assert first.status_code == 200, first.text
    state = first.json()
    sid, said = state["sid"], [p.get("text") for p in state["prompts"]]
    assert "Hello! Migration Information Centre. For English, press 3." in said

    def step(digits: str, event: str = "keys") -> dict[str, object]:
        seq = state["gather"]["seq"] if state.get("gather") else state["seq"]  # type: ignore[index]
        reply = client.post(
            "/dashboard/flows/hotline/simulate/step",
            json={"sid": sid, "seq": seq, "digits": digits, "event": event},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    heard: list[str] = []
    for digits in ("3", "", "1", "9"):
        state = step(digits)
        while state.get("redirect"):
            heard += [str(p.get("text")) for p in state["prompts"]]  # type: ignore[attr-defined]
            state = step("", "continue")
        heard += [str(p.get("text")) for p in state["prompts"]]  # type: ignore[attr-defined]
    assert any(h.startswith("For legal work abroad, press 1") for h in heard)
    assert any(h.startswith("Work abroad only with an official work permit") for h in heard)
    assert heard[-1] == "Thank you for calling. Goodbye!" and state["ended"] is True
    stored, _ = record(editor, str(sid))
    assert stored.simulated is True
    assert stored.flow_version_id == version_id(editor, 1)
    with editor.sessions() as session:
        counted = session.scalars(select(Interaction).where(Interaction.external_sid == sid))
        assert list(counted) == []


def version_id(ctx: AppContext, number: int) -> int:
    with ctx.sessions() as session:
        return service.version(session, "hotline", number).id


def test_the_sms_pane_answers_like_the_webhook_and_keeps_nothing(
    manager: tuple[TestClient, str], editor: AppContext
) -> None:
    client, csrf = manager
    with editor.sessions() as session:
        before = len(list(session.scalars(select(Interaction))))
    answer = client.post(
        "/dashboard/flows/sms",
        json={"to": "+994502000101", "body": "İŞ"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.text
    assert "Xaricdə iş?" in answer.json()["reply"]
    with editor.sessions() as session:
        assert len(list(session.scalars(select(Interaction)))) == before


def test_simulated_calls_are_not_in_the_reports(
    manager: tuple[TestClient, str], editor: AppContext
) -> None:
    client, csrf = manager
    headers = {"X-CSRF-Token": csrf}
    started = client.post("/dashboard/flows/hotline/simulate", json={"version": 1}, headers=headers)
    sid, seq = started.json()["sid"], started.json()["gather"]["seq"]
    client.post(
        "/dashboard/flows/hotline/simulate/step",
        json={"sid": sid, "seq": seq, "digits": "3"},
        headers=headers,
    )
    real = Caller(client, HOTLINE)
    real.start()
    real.press("3")
    with editor.sessions.begin() as session:
        report = reports.report(
            session,
            settings=editor.settings,
            now=OPEN + timedelta(days=1),
            flt=ReportFilter(start=OPEN.date(), end=OPEN.date()),
            exact=True,
        )
    assert report.calls.total == 1  # the signed call only
    welcome = next(n for n in report.funnel if n.node == "welcome")
    assert welcome.reached == 1


def test_a_flow_created_in_the_browser_answers_the_campaign_it_is_attached_to(
    manager: tuple[TestClient, str], editor: AppContext
) -> None:
    client, csrf = manager
    form = {"csrf_token": csrf}
    created = client.post(
        "/dashboard/flows/new", data={**form, "key": "kiosk"}, follow_redirects=False
    )
    assert created.status_code == 303 and created.headers["location"] == "/dashboard/flows/kiosk"
    refused = client.post(
        "/dashboard/flows/kiosk/attach",
        data={**form, "campaign": "AZ-RADIO-IDMAN-2027"},
        follow_redirects=False,
    )
    assert refused.status_code == 409  # nothing is live yet
    client.post("/dashboard/flows/kiosk/publish", data={**form, "number": "1"})
    attached = client.post(
        "/dashboard/flows/kiosk/attach",
        data={**form, "campaign": "AZ-RADIO-IDMAN-2027"},
        follow_redirects=False,
    )
    assert attached.status_code == 303
    call = Caller(client, RADIO)
    assert [v.text for v in verbs(call.start()) if v.tag == "Say"][:1] == ["Salam!"]
    copy = client.post(
        "/dashboard/flows/new",
        data={**form, "key": "kiosk2", "copy_of": "kiosk"},
        follow_redirects=False,
    )
    assert copy.status_code == 303
    with editor.sessions() as session:
        source = service.versions(session, "kiosk2")[0].source
    assert source.startswith("id: kiosk2\n")
