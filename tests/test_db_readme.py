"""db/README.md is the schema reference: every table, column and view documented, every example runs."""

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from support import minsk, query_at, write_config
from support.nbrb_data import recorded_rates

from ticker import config as configuration
from ticker.sync.official import Sync

README = (Path(__file__).resolve().parents[1] / "db" / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```sql\n(.*?)```", README, re.S)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    from support.banks import bank_section, bank_server
    from support.endpoints import Webhook
    from support.nbrb_data import recorded_server

    from ticker.sync import banks as bank_sync
    from ticker.alerts import delivery as alerts

    folder = tmp_path_factory.mktemp("db_readme")
    with recorded_server(today="2026-03-17") as server, Webhook() as hook, bank_server() as bank:
        # The next day's rates, published that afternoon (made up: the recordings end on the 17th).
        for cur_id, text in ((431, "2.9500"), (451, "3.3741"), (456, "3.6610")):
            server.add_rates(cur_id, {"2026-03-18": text})
        config = configuration.load(write_config(folder, server.url, track={
            "currencies": '["USD", "EUR", "RUB", "KRW"]', "since": "2026-03-01"}, belarusbank=bank_section(bank),
            alerts=[{"currency": '"USD"', "above": "2.94", "notify": f'["{hook.url()}"]'}]))
        sync = Sync(config)
        with minsk("2026-03-17 18:51"):
            sync.backfill(until=date(2026, 3, 17))
            sync.fetch([date(2026, 3, 18)])
            Sync(sync.config, sync.store, "nbrb-monthly").backfill(until=date(2026, 3, 17))  # KRW's made-up monthly rate
            alerts.run(config)  # USD crossed 2.94 today: an event and its delivery to show
            bank_sync.poll(sync.config, store=sync.store)  # the recorded 2019 answer, for the bank examples
            # January 2024 too: a day the examples name, and a gap for the gap query to find.
            sync.backfill(since=date(2024, 1, 1), until=date(2024, 1, 15), codes=["USD"])
            sync.fetch([date(2026, 3, 16)])
        sync.store.db.execute("UPDATE rates SET rate_text = '0' WHERE code = 'USD' AND date = '2026-03-16'")
        sync.store.db.conn.commit()
        sync.fetch([date(2026, 3, 16)])  # NBRB "republishes": a revision to show
        sync.store.close()
    return folder / "rates.sqlite"


def test_there_are_examples():
    assert len(EXAMPLES) >= 8


def test_every_example_query_runs_and_returns_rows(database):
    # On the evening of 2026-03-17 in Minsk, as the views see it (their "today" is SQLite's).
    results = query_at("2026-03-17 18:51", database, *EXAMPLES)
    for sql, rows in zip(EXAMPLES, results, strict=True):
        assert rows, sql


def test_every_table_view_and_column_is_documented(database):
    conn = sqlite3.connect(database)
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE '\\_%' ESCAPE '\\'")]
    assert {"rates", "currencies", "fetches", "revisions", "rates_byn", "latest", "upcoming", "alert_events",
            "alert_deliveries"} <= set(names)
    for name in names:
        assert f"### `{name}`" in README, name
        for column in [c[1] for c in conn.execute(f"PRAGMA table_info({name})")]:
            assert f"`{column}`" in README, f"{name}.{column}"


def test_usd_on_2026_03_10_through_the_documented_view(database):
    [published] = [text for (cur_id, day), (_, _, text) in recorded_rates().items() if (cur_id, day) == (431, "2026-03-10")]
    row = sqlite3.connect(database).execute(
        "SELECT rate_text, unit, byn_per_unit, byn_per_unit_e16 FROM rates_byn WHERE code = 'USD' AND date = '2026-03-10'"
    ).fetchone()
    assert row == (published, "BYN", float(published), int(published.replace(".", "")) * 10**12)


def test_the_rate_in_force_through_the_documented_view_is_what_ticker_rate_answers(database):
    from ticker.outputs import hints
    from ticker.store import reader

    conn = sqlite3.connect(database)
    query = ("SELECT code, date, until, periodicity, rate_text FROM rates_in_force"
             " WHERE code = ? AND ? BETWEEN date AND until")
    assert conn.execute(query, ["KRW", "2026-03-17"]).fetchall() == [("KRW", "2026-03-01", "2026-03-31", 1, "2.1367")]
    assert conn.execute(query, ["KRW", "2026-04-01"]).fetchall() == []  # March's rate never answers for April
    assert conn.execute(query, ["USD", "2026-03-10"]).fetchall() == [("USD", "2026-03-10", "2026-03-10", 0, "2.9189")]
    read = reader.connect(database)
    for code, day in (("KRW", "2026-03-17"), ("KRW", "2026-03-01"), ("USD", "2026-03-10")):
        q = hints.rate(read, code, date.fromisoformat(day))
        _, set_on, _, periodicity, text = conn.execute(query, [code, day]).fetchone()
        assert (set_on, periodicity, text) == (q.date.isoformat(), q.periodicity, str(q.rate))
