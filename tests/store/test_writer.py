"""Writing the store: exact values, idempotence, transactions, revisions."""

import sqlite3
from decimal import Decimal

import pytest
from support import recorded


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
    broken = good[-1]._replace(code=None)  # violates NOT NULL, last in the batch
    with pytest.raises(sqlite3.IntegrityError):
        with store.attempt("test", "broken") as attempt:
            store.write(good + [broken], attempt)
    assert store.db.execute("SELECT count(*) FROM rates").fetchone() == (0,)
    assert store.db.execute("SELECT status, error FROM fetches").fetchone()[0] == "error"
