"""The SQLite store: exact values, idempotence, transactions, revisions, schema and views."""

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from nbrb_data import recorded_rates
from ticker.days import unit_on
from ticker.nbrb import Rate
from ticker.store import Store

ROOT = Path(__file__).resolve().parents[1]


def recorded() -> list[Rate]:
    return [Rate(code, date.fromisoformat(day), scale, Decimal(text), unit_on(date.fromisoformat(day)), cur_id)
            for (cur_id, day), (code, scale, text) in recorded_rates().items()]


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "rates.sqlite")
    yield store
    store.close()


def test_every_stored_value_round_trips_to_the_published_text(store):
    rates = recorded()
    with store.attempt("test", "recorded data") as attempt:
        store.write(rates, attempt)
    published = {(r.code, r.date.isoformat()): format(r.rate, "f") for r in rates}
    stored = store.db.execute("SELECT code, date, rate, rate_text, typeof(rate) FROM rates").fetchall()
    assert len(stored) == len(published) == 1644
    for code, day, real, text, kind in stored:
        assert kind == "real"
        assert text == published[code, day]
        decimals = len(text.split(".")[1]) if "." in text else 0
        # The REAL is the published number: formatted back with the published decimals it is the text.
        assert f"{real:.{decimals}f}" == text
        assert Decimal(repr(real)) == Decimal(text)


def test_units_follow_the_redenominations(store):
    with store.attempt("test", "units") as attempt:
        store.write(recorded(), attempt)
    units = dict(store.db.execute("SELECT date, unit FROM rates WHERE code = 'USD' AND date IN "
                                  "('1996-01-01', '2000-01-01', '2015-01-01', '2024-01-10')").fetchall())
    assert units == {"1996-01-01": "BYB", "2000-01-01": "BYR", "2015-01-01": "BYR", "2024-01-10": "BYN"}
    per_unit = dict(store.db.execute("SELECT date, byn_per_unit FROM rates_byn WHERE code = 'USD' "
                                     "AND date IN ('1996-01-01', '2015-01-01', '2024-01-10')").fetchall())
    assert per_unit == {"1996-01-01": 11500.00 / 10_000_000, "2015-01-01": 11900.00 / 10_000,
                        "2024-01-10": 3.1949}


def test_writing_the_same_batch_twice_changes_nothing(store):
    rates = recorded()[:100]
    with store.attempt("test", "first") as attempt:
        assert len(store.write(rates, attempt)[0]) == 100
    before = store.db.execute("SELECT * FROM rates ORDER BY code, date").fetchall()
    with store.attempt("test", "second") as attempt:
        assert store.write(rates, attempt) == ([], [])
    assert store.db.execute("SELECT * FROM rates ORDER BY code, date").fetchall() == before
    assert store.db.execute("SELECT status, rows_new, rows_changed FROM fetches ORDER BY id").fetchall() == [
        ("ok", 100, 0), ("ok", 0, 0)]


def test_a_failure_mid_batch_leaves_the_database_as_it_was(store):
    good = recorded()[:50]
    broken = good[-1]._replace(code="ZZZ", unit="XXX")  # violates the unit CHECK, last in the batch
    with pytest.raises(sqlite3.IntegrityError):
        with store.attempt("test", "broken") as attempt:
            store.write(good + [broken], attempt)
    assert store.db.execute("SELECT count(*) FROM rates").fetchone() == (0,)
    assert store.db.execute("SELECT status, error FROM fetches").fetchone()[0] == "error"


def test_latest_view_gives_the_change_against_the_previous_distinct_rate(store):
    rates = [r for r in recorded() if r.code == "USD" and "2024-01-01" <= r.date.isoformat() <= "2024-01-15"]
    with store.attempt("test", "usd") as attempt:
        store.write(rates, attempt)
    by_day = {r.date.isoformat(): r.rate for r in rates}
    last = by_day["2024-01-15"]
    prev_day = max(d for d, v in by_day.items() if d < "2024-01-15" and v != last)
    prev = by_day[prev_day]
    row = store.db.execute("SELECT code, date, rate, prev_date, prev_rate, change, change_pct FROM latest").fetchone()
    assert row == ("USD", "2024-01-15", float(last), prev_day, float(prev), float(last - prev),
                   round(float(100 * (last - prev) / prev), 4))
    assert (row[2], row[4]) == (3.1537, 3.1636)


def test_schema_sql_in_the_repository_is_the_schema_of_a_fresh_database(tmp_path):
    Store(tmp_path / "fresh.sqlite").close()
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite")
    statements = [sql for (sql,) in fresh.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    committed = (ROOT / "db" / "schema.sql").read_text(encoding="utf-8")
    assert committed == "".join(f"{sql};\n\n" for sql in statements).rstrip() + "\n"
    assert "CREATE TABLE rates (" in committed and "CREATE VIEW latest AS" in committed


def test_database_is_in_wal_mode_with_a_busy_timeout(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.db.execute("PRAGMA busy_timeout").fetchone() == (10000,)


def test_the_primary_key_serves_range_queries_per_currency(store):
    plan = store.db.execute("EXPLAIN QUERY PLAN SELECT * FROM rates WHERE code = 'USD' AND date >= '2024-01-01'")
    assert "USING PRIMARY KEY (code=? AND date>?)" in " ".join(row[3] for row in plan)
