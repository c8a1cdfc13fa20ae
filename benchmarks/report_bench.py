"""Report speed at scale: bulk-load synthetic raw rows, rebuild rollups, time reports.

    python benchmarks/report_bench.py --interactions 1000000
    python benchmarks/report_bench.py --interactions 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Synthetic traffic over --days days ending now: interactions (calls, SMS, WhatsApp) for the
demo campaigns, a call record with ~8 menu events for every voice interaction, contacts
drawn with repeats (a quarter as many contacts as interactions, some very frequent).
Prints the timings as a Markdown table (medians of --runs runs).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from campaigns.registry.models import Campaign
from campaigns.registry.service import load_file
from campaigns.reports import rollups, service
from campaigns.reports.filters import ReportFilter
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.models import metadata

DEMO = Path(__file__).resolve().parents[1] / "campaigns" / "demo" / "campaigns.yaml"
CHUNK = 50_000
TOPICS = ["legal", "contracts", "visas", "trafficking", "centres"]
VALUES = ["legal_work", "contracts", "visas", "trafficking", "mic_locations"]


def _fresh_url(url: str | None, work: Path) -> tuple[str, Callable[[], None]]:
    if not url:
        return f"sqlite:///{work / 'bench.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def _sqlite_stamp(moment: datetime) -> str:
    # The text form outreach.core.db.UTCDateTime stores on SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return moment.isoformat(" ", "microseconds")[:26]


def _same(moment: datetime) -> datetime:
    return moment


def _rows(
    n: int,
    days: float,
    campaigns: list[tuple[int, str]],
    end: datetime,
    rng: random.Random,
    offsets: tuple[int, int, int],
    stamp: Callable[[datetime], Any],
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Yields ("i", interaction) and for voice also ("c", call) and ("e", event) rows."""
    pool = max(n // 4, 10)
    span = max(int(days * 86400), 1)
    call_id, event_id, first = offsets
    for i in range(first, first + n):
        campaign_id, medium = rng.choice(campaigns)
        voice = medium in ("radio", "tv") or campaign_id == 0
        channel = "voice" if voice else ("whatsapp" if rng.random() < 0.15 else "sms")
        language = rng.choices(["az", "ru", "en"], weights=[6, 3, 1])[0]
        # Squaring skews towards low numbers: some contacts come back often.
        contact = f"{int(pool * rng.random() ** 2):064x}"
        at = stamp(end - timedelta(seconds=rng.randrange(span)))
        sid = f"X{i:033d}"
        cid = campaign_id or None
        yield (
            "i",
            (
                cid,
                channel,
                "call" if voice else "keyword",
                "number",
                "+994125550101",
                None,
                language,
                contact,
                "AZ",
                at,
                sid,
                None,
            ),
        )
        if not voice:
            continue
        call_id += 1
        topic = rng.randrange(5)
        hung = rng.random() < 0.45
        outcome = "hung_up" if hung else "completed"
        duration = rng.randrange(10, 160)
        yield (
            "c",
            (
                call_id,
                sid,
                cid,
                None,
                "radio",
                "flows/radio.yaml",
                "inbound",
                "+994125550101",
                contact,
                "AZ",
                "number",
                None,
                language,
                "{}",
                "{}",
                5,
                "",
                outcome,
                TOPICS[topic] + "_more",
                "completed",
                duration,
                at,
                at,
                at,
            ),
        )
        path = [
            ("welcome", "entered", None, None),
            ("welcome", "went_on", None, None),
            ("intro", "entered", None, None),
            ("topics", "entered", None, None),
            ("topics", "result", "topic", VALUES[topic]),
            ("topics", "went_on", None, None),
            (TOPICS[topic], "entered", None, None),
            (TOPICS[topic] + "_more", "hung_up" if hung else "went_on", None, None),
        ]
        for position, (node, kind, question, value) in enumerate(path):
            event_id += 1
            yield "e", (event_id, call_id, position, node, kind, question, value, at)


INSERTS = {
    "i": (
        "interactions",
        "campaign_id, channel, kind, attribution, number, keyword, language, "
        "contact_id, country, created_at, external_sid, reply",
    ),
    "c": (
        "calls",
        "id, call_sid, campaign_id, hotline_id, flow_id, flow_file, direction, number, "
        "contact_id, country, attribution, psa_code, language, state, results, seq, "
        "last_twiml, outcome, ended_node, status, duration_seconds, started_at, ended_at, "
        "updated_at",
    ),
    "e": ("call_events", "id, call_id, position, node, kind, question_id, value, created_at"),
}


def load(
    ctx: AppContext, n: int, days: float, end: datetime, seed: int, *, bulk: bool = False
) -> dict[str, int]:
    """Loads synthetic rows with the driver's fastest path (executemany / COPY); `bulk`
    drops the raw tables' secondary indexes during the load and builds them after."""
    sqlite = ctx.settings.is_sqlite
    indexes = [i for t in INSERTS.values() for i in metadata.tables[t[0]].indexes] if bulk else []
    with ctx.engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    with ctx.sessions() as session:
        campaigns = [(c.id, str(c.medium)) for c in session.scalars(select(Campaign))]
        offsets = (
            int(session.scalar(text("SELECT coalesce(max(id), 0) FROM calls")) or 0),
            int(session.scalar(text("SELECT coalesce(max(id), 0) FROM call_events")) or 0),
            int(session.scalar(text("SELECT count(*) FROM interactions")) or 0),
        )
    campaigns.append((0, "none"))
    buffers: dict[str, list[tuple[Any, ...]]] = {k: [] for k in INSERTS}
    counts = dict.fromkeys(INSERTS, 0)
    raw = ctx.engine.raw_connection()
    try:
        cur = raw.cursor()

        def flush(kind: str) -> None:
            table, cols = INSERTS[kind]
            rows = buffers[kind]
            if sqlite:
                marks = ", ".join("?" * len(cols.split(",")))
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608
            else:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            counts[kind] += len(rows)
            buffers[kind] = []

        if sqlite:
            cur.execute("PRAGMA synchronous=OFF")
        stamp = _sqlite_stamp if sqlite else _same
        for kind, row in _rows(n, days, campaigns, end, random.Random(seed), offsets, stamp):
            buffers[kind].append(row)
            if len(buffers[kind]) >= CHUNK:
                for name in INSERTS:  # parents first: events refer to calls
                    flush(name)
        for kind in INSERTS:
            if buffers[kind]:
                flush(kind)
        if not sqlite:
            for table in ("calls", "call_events"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
    finally:
        raw.close()
    with ctx.engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        if bulk and not sqlite:
            conn.execute(text("ANALYZE"))
    return counts


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="report-bench-"))
    url, drop = _fresh_url(args.database_url, work)
    secrets = {"hash_key": "bench", "session_secret": "bench", "twilio_auth_token": "bench"}
    settings = Settings(database_url=url, encryption_key=Fernet.generate_key().decode(), **secrets)
    ctx = AppContext.from_settings(settings)
    zone = ZoneInfo(settings.default_timezone)
    try:
        upgrade_schema(ctx.engine)
        with ctx.sessions.begin() as session:
            load_file(session, DEMO)
        end = datetime.now(UTC)
        results: list[tuple[str, str]] = []
        started = time.perf_counter()
        counts = load(ctx, args.interactions, args.days, end, args.seed, bulk=True)
        results.append(
            (
                "bulk load of raw rows (indexes built after)",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        started = time.perf_counter()
        with ctx.sessions.begin() as session:
            rollups.rebuild(session, zone=zone, now=end)
        results.append(
            (
                "`outreach rollups rebuild` (all rollups from the raw log)",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        today = end.astimezone(zone).date()
        cases = {
            "campaign report, 30 days (AZ-RADIO-IDMAN-2027)": (
                service.report,
                ReportFilter(today - timedelta(days=29), today, campaign="AZ-RADIO-IDMAN-2027"),
            ),
            "overview report, all campaigns, 30 days": (
                service.report,
                ReportFilter(today - timedelta(days=29), today),
            ),
            f"overview report, all campaigns, {args.days} days": (
                service.report,
                ReportFilter(today - timedelta(days=args.days), today),
            ),
            "report filtered by medium=radio, language=ru, 30 days": (
                service.report,
                ReportFilter(today - timedelta(days=29), today, medium="radio", language="ru"),
            ),
            f"channel comparison, {args.days} days": (
                service.channels,
                ReportFilter(today - timedelta(days=args.days), today),
            ),
        }
        viewers = {
            "overview report for a viewer (suppressed, rounded), all campaigns, 30 days": (
                service.report,
                ReportFilter(today - timedelta(days=29), today),
            ),
            f"channel comparison for a viewer, {args.days} days": (
                service.channels,
                ReportFilter(today - timedelta(days=args.days), today),
            ),
        }
        sample: dict[str, Any] = {}
        for name, (fn, flt) in [*cases.items(), *viewers.items()]:

            def run(fn: Any = fn, flt: ReportFilter = flt, exact: bool = name in cases) -> Any:
                with ctx.sessions.begin() as session:
                    return fn(
                        session, settings=settings, flt=flt, now=datetime.now(UTC), exact=exact
                    )

            seconds, sample[name] = timed(run, args.runs)
            results.append((name, f"{seconds * 1000:.0f} ms"))

        refreshes = []
        for _ in range(args.runs):
            # New traffic arrives (1,000 interactions of the last 10 minutes with their calls),
            # then the incremental refresh a report (or the background refresher) runs.
            load(ctx, 1000, 10 / 1440, datetime.now(UTC), random.randrange(10**6))
            started = time.perf_counter()
            with ctx.sessions.begin() as session:
                rollups.refresh(
                    session, zone=zone, now=datetime.now(UTC), lag_hours=settings.rollup_lag_hours
                )
            refreshes.append(time.perf_counter() - started)
        results.append(
            (
                "incremental refresh after 1,000 new interactions (+ their calls)",
                f"{statistics.median(refreshes) * 1000:.0f} ms",
            )
        )
        with ctx.sessions() as session:
            sizes = {
                t: session.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                for t in ("rollup_counts", "rollup_sets", "rollup_people", "report_contacts")
            }
        overview = sample["overview report, all campaigns, 30 days"]
        kind = "PostgreSQL" if not settings.is_sqlite else "SQLite"
        print(
            f"\n{kind}: {counts['i']:,} interactions, {counts['c']:,} calls, "
            f"{counts['e']:,} call events over {args.days} days; "
            f"rollups: {sizes['rollup_counts']:,} count rows, {sizes['rollup_sets']:,} "
            f"contact sets, {sizes['rollup_people']:,} people sets, "
            f"{sizes['report_contacts']:,} contacts\n"
        )
        print(f"| step | time (median of {args.runs}) |")
        print("| --- | --- |")
        for name, value in results:
            print(f"| {name} | {value} |")
        print(
            f"\n30-day overview: {overview['interactions']['total']:,} interactions, "
            f"{overview['contacts']['unique']:,} unique contacts"
        )
    finally:
        ctx.engine.dispose()
        drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
