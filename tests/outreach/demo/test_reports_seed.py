"""The demo seed: a month of anonymous traffic through the services, and no number stored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from campaigns.airings.service import Airing
from campaigns.registry.models import Interaction
from campaigns.voice.models import Call
from outreach.core.context import AppContext
from outreach.demo.seed import Seeder
from outreach.models import metadata

END = datetime(2027, 2, 12, 20, 0, tzinfo=UTC)


def test_seeded_traffic_is_anonymous_and_spikes_after_airings(loaded: AppContext) -> None:
    seeder = Seeder(loaded, rng=random.Random(11), scale=1.0)
    from outreach.core.gateway import TwilioGateway
    from outreach.demo.seed import OfflineTwilio

    loaded.gateway = TwilioGateway.from_settings(
        loaded.settings, http_client=OfflineTwilio(), sleep=lambda _s: None
    )
    start = END - timedelta(days=2)
    seeder.plan(start.replace(hour=0, minute=0), 3)
    seeder.queue = sorted(e for e in seeder.queue if e.at >= start)
    stats = seeder.run(END)
    assert stats.calls > 50 and stats.texts > 50 and stats.airings >= 4
    with loaded.sessions() as session:
        dump = []
        for table in metadata.sorted_tables:
            for row in session.execute(select(table)):
                dump.append(" ".join(str(v) for v in row))
        airing_times = list(session.scalars(select(Airing.aired_at)))
        calls = list(session.scalars(select(Call.started_at)))
        kinds = dict(
            session.execute(select(Interaction.kind, func.count()).group_by(Interaction.kind)).all()
        )
    everything = "\n".join(dump)
    leaked = [n for n in set(seeder.callers) if n in everything or n[1:] in everything]
    assert leaked == []
    # More calls start in the 10 minutes after an airing than in the 10 minutes before.
    after = sum(any(a <= c < a + timedelta(minutes=10) for a in airing_times) for c in calls)
    before = sum(any(a - timedelta(minutes=10) <= c < a for a in airing_times) for c in calls)
    assert after > 3 * max(before, 1)
    assert kinds.get("keyword", 0) > 0 and kinds.get("call", 0) > 0


def test_demo_seed_command_fills_a_database(tmp_path: object) -> None:
    from outreach.cli import app

    db = f"sqlite:///{tmp_path}/demo.db"  # type: ignore[str-bytes-safe]
    result = CliRunner().invoke(
        app,
        ["demo", "seed", "--days", "1", "--end", "2027-02-10"],
        env={"OUTREACH_DATABASE_URL": db, "OUTREACH_SCHEDULER_ENABLED": "false"},
    )
    assert result.exit_code == 0, result.output
    assert "seeded" in result.output
    from sqlalchemy import create_engine

    engine = create_engine(db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM interactions")).scalar_one() > 20
        assert conn.execute(text("SELECT count(*) FROM airings")).scalar_one() >= 2
    engine.dispose()
