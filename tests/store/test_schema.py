"""The schema: the committed schema.sql, WAL, the primary key, and the views."""

import sqlite3
from pathlib import Path

from support import recorded

from ticker.store.writer import Store

ROOT = Path(__file__).resolve().parents[2]


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
