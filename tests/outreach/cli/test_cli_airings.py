"""`outreach airings import`: a sample file, semicolons, words for bad values, exit 1 on skips."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from campaigns.airings.service import Airing, import_csv
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from tests.outreach.cli.test_cli_exit_codes import invoke
from tests.support.app import ROOT

SAMPLE = ROOT / "campaigns" / "demo" / "airings-sample.csv"


def _airings(ctx: AppContext) -> list[tuple[str, datetime]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(Airing).order_by(Airing.aired_at)).all()
        return [(a.station, a.aired_at.replace(tzinfo=a.aired_at.tzinfo or UTC)) for a in rows]


def test_the_shipped_sample_imports_cleanly_then_again_skips_every_row(
    loaded: AppContext,
) -> None:
    first = invoke(loaded, "airings", "import", str(SAMPLE))
    assert first.exit_code == 0, first.output
    rows = len(SAMPLE.read_text().splitlines()) - 1
    assert f"imported {rows} airing(s), skipped 0" in first.output
    again = invoke(loaded, "airings", "import", str(SAMPLE))
    assert again.exit_code == 1  # rows were skipped (already recorded)
    assert f"imported 0 airing(s), skipped {rows}" in again.output
    assert len(_airings(loaded)) == rows


def test_a_semicolon_file_with_local_times_is_read_in_the_campaigns_zone(
    loaded: AppContext, tmp_path: Path
) -> None:
    file = tmp_path / "airings.csv"
    file.write_text(
        "campaign;station;aired_at;duration_seconds\n"
        "AZ-RADIO-IDMAN-2027;Idman FM;2027-03-01 08:15;30\n",
        encoding="utf-8",
    )
    result = invoke(loaded, "airings", "import", str(file))
    assert result.exit_code == 0, result.output
    [(station, aired)] = _airings(loaded)
    # 08:15 in Asia/Baku (UTC+4) is 04:15 UTC.
    assert station == "Idman FM" and aired.astimezone(UTC) == datetime(
        2027, 3, 1, 4, 15, tzinfo=UTC
    )


def test_bad_rows_are_explained_in_words_and_exit_1(loaded: AppContext, tmp_path: Path) -> None:
    file = tmp_path / "airings.csv"
    file.write_text(
        "campaign,station,aired_at,duration_seconds\n"
        "AZ-RADIO-IDMAN-2027,Idman FM,2027-03-01 08:15,30\n"
        "AZ-FLYER-BAKU-2027,Metro,2027-03-01 09:00,30\n"
        "AZ-RADIO-IDMAN-2027,Idman FM,2027-03-02 08:15,half a minute\n"
        "AZ-RADIO-IDMAN-2027,Idman FM,yesterday,30\n",
        encoding="utf-8",
    )
    result = invoke(loaded, "airings", "import", str(file))
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "line 3: campaign 'AZ-FLYER-BAKU-2027' is a flyer campaign: only radio and TV" in said
    assert "line 4: duration_seconds 'half a minute' is not a whole number of seconds" in said
    assert "line 5: aired_at 'yesterday' is not a date and time like" in said
    assert "invalid literal" not in said and "Traceback" not in said
    assert "imported 1 airing(s), skipped 3" in said
    assert len(_airings(loaded)) == 1


def test_a_file_without_the_header_exits_2(loaded: AppContext, tmp_path: Path) -> None:
    file = tmp_path / "airings.csv"
    file.write_text("when,where\n2027-03-01,Idman\n", encoding="utf-8")
    result = invoke(loaded, "airings", "import", str(file))
    assert result.exit_code == 2
    assert "header lacks campaign, station, aired_at" in " ".join(result.output.split())


def test_twenty_imports_of_one_file_at_once_record_each_airing_once(loaded: AppContext) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    rows = len(text.splitlines()) - 1

    def once(_: int) -> tuple[int, int]:
        with session_scope(loaded.sessions) as session:
            added, problems = import_csv(session, text=text)
        return added, len(problems)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(once, range(20)))
    assert all(added + skipped == rows for added, skipped in results)
    assert sum(added for added, _ in results) == rows
    assert len(_airings(loaded)) == rows
