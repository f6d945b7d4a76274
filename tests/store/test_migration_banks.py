"""Migration 0009 (every bank in one record) on a database holding a year of Belarusbank's rates:
no row lost, every value its cash rate, and the views answer as they did before, now naming the bank.

The year is written by the store's writer, one answer a day for 2025 (60 of the recorded answer's
points, the rates moving every day), then the database is put back in the shape migration 0008 left
(bank_values without the columns 0009 adds, the views of 0007, 0009 not applied) and opened again.
"""

import sqlite3
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from support.banks import bank_server

from ticker import days, sources
from ticker.store import banks, schema
from ticker.store.writer import Store

DAYS = 365
POINTS = 60
TABLES = {"bank_points": "id", "bank_polls": "id", "bank_sets": "id", "bank_set_values": "rate_set, value",
          "bank_point_sets": "point, first_poll"}
OLD_VALUES = "id, code, against, side, scale, rate_text, per_unit_e16, rate, checked"
VIEWS = {  # each view's columns that 0008 had, and the order that makes its rows comparable
    "bank_rates_now": ("bank, point_id, city, code, against, side, scale, rate_text, per_unit_e16, checked, first_seen",
                       "bank, point_id, code, against, side"),
    "bank_best": ("city, code, against, side, scale, rate_text, per_unit_e16, points, quoting, as_of",
                  "city, code, against, side"),
    "bank_spread": ("city, code, scale, buy, sell, official, buy_pct, sell_pct, as_of", "city, code"),
    "bank_history": ("bank, point_id, code, against, side, rate_text, first_seen, last_seen, current",
                     "bank, point_id, code, against, side, first_seen"),
}


def a_year(path) -> tuple[list, list]:
    """Write the year; returns the last answer's points and rates."""
    with bank_server() as server:
        answer = sources.get("belarusbank")(server.url).rates()
    kept = answer.points[:POINTS]
    ids = {p.id for p in kept}
    quotes = [q._replace(checked=True) for q in answer.rates if q.point in ids]
    store = Store(path)
    for n in range(DAYS):
        on = date(2025, 1, 1) + timedelta(days=n)
        step = Decimal(n) / 20000  # every rate up a little each day: a new rate set every day
        moved = [q._replace(rate=(q.rate * (1 + step)).quantize(Decimal("0.0001"))) for q in quotes]
        with time_machine.travel(datetime(on.year, on.month, on.day, 10, tzinfo=days.minsk()), tick=False), \
                banks.polling(store.db, "belarusbank") as poll:
            banks.write(store.db, poll, kept, moved)
    store.close()
    return kept, moved


def rows(conn, table: str, columns: str = "*", order: str | None = None) -> list[tuple]:
    return conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order or TABLES[table]}").fetchall()


def as_0008(path) -> None:
    """Put the database back in the shape migration 0008 left: 0009's columns and views gone."""
    old = {s.split()[2]: s for s in schema.BANKS if s.startswith(("CREATE VIEW", "CREATE TABLE bank_values"))}
    conn = sqlite3.connect(path)
    with conn:
        for view in VIEWS:
            conn.execute(f"DROP VIEW {view}")
        conn.execute("ALTER TABLE bank_values RENAME TO bank_values_new")
        conn.execute(old["bank_values"])
        conn.execute(f"INSERT INTO bank_values SELECT {OLD_VALUES} FROM bank_values_new")
        conn.execute("DROP TABLE bank_values_new")
        conn.execute("ALTER TABLE bank_points DROP COLUMN latitude")
        conn.execute("ALTER TABLE bank_points DROP COLUMN longitude")
        for view in VIEWS:
            conn.execute(old[view])
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0009_banks_across'")
    conn.close()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("migration") / "rates.sqlite"
    last = a_year(path)
    as_0008(path)
    conn = sqlite3.connect(path)
    before = {table: rows(conn, table) for table in TABLES}
    before["bank_values"] = rows(conn, "bank_values", order="id")
    views = {view: rows(conn, view, *VIEWS[view]) for view in VIEWS}
    conn.close()
    Store(path).close()  # migrates
    return path, before, views, last


def test_the_year_is_all_there_before_migrating(migrated):
    _, before, views, _ = migrated
    assert len(before["bank_polls"]) == DAYS and len(before["bank_points"]) == POINTS
    assert len(before["bank_values"]) > DAYS * 10 and len(views["bank_history"]) > DAYS * POINTS
    assert [c for (c,) in sqlite3.connect(migrated[0]).execute(
        "SELECT name FROM _sqlite_migrations WHERE name = '0009_banks_across'")] == ["0009_banks_across"]


def test_no_row_is_lost_and_every_value_is_a_cash_rate(migrated):
    path, before, _, _ = migrated
    conn = sqlite3.connect(path)
    for table in TABLES.keys() - {"bank_points"}:
        assert rows(conn, table) == before[table], table
    assert rows(conn, "bank_points", "id, bank, point_id, city, city_type, address, label, hours, hours_text,"
                " first_seen, last_seen, changed_at") == before["bank_points"]
    assert rows(conn, "bank_points", "latitude, longitude") == [(None, None)] * POINTS
    assert rows(conn, "bank_values", OLD_VALUES, "id") == before["bank_values"]
    assert set(rows(conn, "bank_values", "channel, min_amount, max_amount, typical, per", "id")) == {
        ("cash", "", "", 1, "")}


def test_the_views_answer_as_before_and_name_the_bank(migrated):
    path, _, views, (points, quotes) = migrated
    conn = sqlite3.connect(path)
    for view, (columns, order) in VIEWS.items():
        assert rows(conn, view, columns, order) == views[view], view
    assert set(rows(conn, "bank_best", "banks, channel", "banks")) == {("belarusbank", "cash")}
    assert set(rows(conn, "bank_spread", "buy_banks, sell_banks", "buy_banks")) == {("belarusbank", "belarusbank")}
    # The best USD buy of the first city, computed here from the last answer's rates.
    city = points[0].city
    there = {p.id for p in points if p.city == city}
    expected = max(q.rate for q in quotes if q.point in there and (q.code, q.against, q.side) == ("USD", "BYN", "buy"))
    assert conn.execute("SELECT rate_text, banks FROM bank_best WHERE city = ? AND code = 'USD' AND against = 'BYN'"
                        " AND side = 'buy'", [city]).fetchone() == (str(expected), "belarusbank")
