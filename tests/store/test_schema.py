"""The schema: the committed schema.sql, WAL, the primary key, the exact column and the views."""

import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from support import query_at, recorded

from ticker.errors import NoData
from ticker.store import reader, schema
from ticker.store.writer import Store

ROOT = Path(__file__).resolve().parents[2]


def test_latest_view_gives_the_change_against_the_previous_distinct_rate(store):
    rates = [r for r in recorded() if r.code == "USD" and "2024-01-01" <= r.date.isoformat() <= "2024-01-15"]
    with store.attempt("test", "usd") as attempt:
        store.write(rates, attempt)
    by_day = {r.date.isoformat(): r.rate for r in rates}
    prev_day = max(d for d, v in by_day.items() if d < "2024-01-14" and v != by_day["2024-01-14"])
    # On Sunday 2024-01-14 the rate in force is Saturday's, set on Friday; Monday's is published.
    [latest], [upcoming] = query_at("2024-01-14 09:00", store.path, "SELECT * FROM latest", "SELECT * FROM upcoming")
    assert (latest["code"], latest["date"], latest["rate_text"], latest["prev_date"]) == (
        "USD", "2024-01-14", str(by_day["2024-01-14"]), prev_day)
    last, prev = by_day["2024-01-14"], by_day[prev_day]
    assert (latest["rate"], latest["prev_rate"]) == (3.1636, 3.176) == (float(last), float(prev))
    assert (latest["change"], latest["change_pct"], latest["direction"]) == (
        float(last - prev), round(float(100 * (last - prev) / prev), 4), "down")
    assert (upcoming["date"], upcoming["rate_text"], upcoming["prev_date"], upcoming["direction"]) == (
        "2024-01-15", "3.1537", "2024-01-14", "down")
    # After midnight in Minsk (21:00 UTC), Monday's rate is the one in force.
    assert query_at("2024-01-15 00:01", store.path, "SELECT date FROM latest", "SELECT * FROM upcoming") == [
        [{"date": "2024-01-15"}], []]


def test_every_stored_rate_has_its_exact_value_per_unit(store):
    rates = recorded()
    with store.attempt("test", "all") as attempt:
        store.write(rates, attempt)
    stored = dict(((c, d), e) for c, d, e in store.db.execute("SELECT code, date, byn_per_unit_e16 FROM rates"))
    assert len(stored) == len(rates) == 1644
    for r in rates:
        assert Decimal(stored[r.code, r.date.isoformat()]) / 10**16 == r.rate / r.scale / {"BYN": 1, "BYR": 10**4, "BYB": 10**7}[r.unit]
    assert stored["USD", "2024-01-10"] == 31949 * 10**12
    assert stored["USD", "2015-01-01"] == 119 * 10**14  # 11900.00 BYR is 1.19 BYN
    assert stored["ITL", "1996-01-01"] == 7262300000  # 726.23 BYB per 100 lire: 0.00000072623 BYN per lira


def test_the_migration_fills_the_exact_column_of_an_older_database(tmp_path):
    from sqlite_utils import Database

    older = Database(tmp_path / "older.sqlite")
    schema.MIGRATIONS.apply(older, stop_before="0004_exact_views")
    older.conn.executemany(
        "INSERT INTO rates (code, date, scale, rate, rate_text, unit, cur_id, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.code, r.date.isoformat(), r.scale, float(r.rate), format(r.rate, "f"), r.unit, r.cur_id, "then")
         for r in recorded()])
    older.conn.commit()
    older.close()
    # Read-only commands do not migrate: they say what will.
    with pytest.raises(NoData, match="written by an older ticker; `ticker fetch` .* brings it up to date"):
        reader.connect(tmp_path / "older.sqlite")
    store = Store(tmp_path / "older.sqlite")
    assert reader.connect(tmp_path / "older.sqlite")
    assert store.db.execute("SELECT count(*) FROM rates WHERE byn_per_unit_e16 IS NULL").fetchone() == (0,)
    assert store.db.execute("SELECT byn_per_unit_e16 FROM rates WHERE code = 'RUB' AND date = '2026-03-17'"
                            ).fetchone() == (36709 * 10**10,)  # 3.6709 per 100
    assert {n for (n,) in store.db.execute("SELECT name FROM _sqlite_migrations")} >= {"0001_initial", "0004_exact_views"}
    store.close()


@pytest.mark.parametrize("view", ["latest", "upcoming"])
def test_views_seek_the_primary_key_and_scan_no_table(store, view):
    with store.attempt("test", "all") as attempt:
        store.write(recorded(), attempt)
    plan = [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN SELECT * FROM {view}")]
    on_rates = [step for step in plan if re.search(r"\b(rates|cur|prev|p)\b", step)]
    assert len(on_rates) == 5, plan  # two to walk the codes, the row, the previous one and its date
    assert all(step.startswith("SEARCH ") and "USING PRIMARY KEY" in step for step in on_rates), plan
    assert [step for step in plan if step.startswith("SCAN")] == ["SCAN codes", "SCAN CONSTANT ROW", "SCAN today",
                                                                   "SCAN codes"], plan


def test_schema_sql_in_the_repository_is_the_schema_of_a_fresh_database(tmp_path):
    Store(tmp_path / "fresh.sqlite").close()
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite")
    statements = [sql for (sql,) in fresh.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    committed = (ROOT / "db" / "schema.sql").read_text(encoding="utf-8")
    assert committed == "".join(f"{sql};\n\n" for sql in statements).rstrip() + "\n"
    assert "CREATE TABLE rates (" in committed and "CREATE VIEW latest AS" in committed
    assert "CREATE VIEW upcoming AS" in committed and "byn_per_unit_e16 INTEGER" in committed


def test_database_is_in_wal_mode_with_a_busy_timeout(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.db.execute("PRAGMA busy_timeout").fetchone() == (10000,)


def test_the_primary_key_serves_range_queries_per_currency(store):
    plan = store.db.execute("EXPLAIN QUERY PLAN SELECT * FROM rates WHERE code = 'USD' AND date >= '2024-01-01'")
    assert "USING PRIMARY KEY (code=? AND date>?)" in " ".join(row[3] for row in plan)


def test_the_wal_is_bounded_on_every_writer_connection(store):
    # SQLite cuts the -wal back to this after each checkpoint that resets it.
    assert store.db.execute("PRAGMA journal_size_limit").fetchone() == (schema.JOURNAL_LIMIT,) == (4 * 2**20,)
