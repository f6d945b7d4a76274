"""The bank tables and views on a real database filled by a real poll of the recorded 2019 answer."""

import sqlite3
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from support import minsk, write_config
from support.banks import answer, bank_section, bank_server, nonzero, recorded_points
from support.nbrb_data import recorded_server

from ticker import bank_sync
from ticker import config as configuration
from ticker.sync import Sync


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    """A database with NBRB's rates of 2026-03-17 and one bank answer (the recording) polled that day;
    then the same answer where point 1433 sells USD cheaper, polled half an hour later."""
    folder = tmp_path_factory.mktemp("banks")
    with recorded_server(today="2026-03-17") as nbrb, bank_server() as bank:
        config = configuration.load(write_config(folder, nbrb.url, track={"currencies": '["*"]'},
                                                 belarusbank=bank_section(bank)))
        sync = Sync(config)
        sync.fetch([date(2026, 3, 17)])
        sync.store.close()
        with minsk("2026-03-17 12:00"):
            bank_sync.poll(config)
        points = recorded_points()
        next(p for p in points if p["filial_id"] == "1433")["USD_out"] = "2.0660"
        answer(bank, points)
        with minsk("2026-03-17 12:30"):
            bank_sync.poll(config)
    return config.database.path, points


@pytest.fixture
def conn(polled):
    conn = sqlite3.connect(polled[0])
    yield conn
    conn.close()


def minsk_points(points):
    return [p for p in points if p["name"] == "Минск"]


def test_bank_rates_now_holds_the_last_answer_only(conn, polled):
    points = polled[1]
    assert conn.execute("SELECT count(*) FROM bank_rates").fetchone() == (sum(len(nonzero(p)) for p in points) + 1,)
    assert conn.execute("SELECT count(*) FROM bank_rates_now").fetchone() == (sum(len(nonzero(p)) for p in points),)
    row = conn.execute("SELECT city, address, label, rate_text, scale, quoted, checked FROM bank_rates_now"
                       " WHERE point_id = '1433' AND code = 'USD' AND against = 'BYN' AND side = 'sell'").fetchone()
    assert row == ("Минск", "пр. Дзержинского 18", "Головной офис 795", "2.0660", 1, "BYN per 1 USD", 1)
    quoted = dict(conn.execute("SELECT code || '/' || against || ' ' || side, quoted FROM bank_rates_now"
                               " WHERE point_id = '16'"))
    assert quoted["RUB/BYN buy"] == "BYN per 100 RUB"
    assert quoted["USD/EUR buy"] == "EUR per 1 USD"  # USD_EUR_in: the client gives 1 USD, gets EUR
    assert quoted["USD/EUR sell"] == "USD per 1 EUR"  # USD_EUR_out: the client gives 1 EUR, gets USD


def test_bank_best_per_city_and_currency(conn, polled):
    minsk = minsk_points(polled[1])
    rows = {side: row for side, *row in conn.execute(
        "SELECT side, rate_text, points, quoting FROM bank_best WHERE city = 'Минск' AND code = 'USD' AND against = 'BYN'")}
    usd_in = [Decimal(p["USD_in"]) for p in minsk if Decimal(p["USD_in"])]
    usd_out = [Decimal(p["USD_out"]) for p in minsk if Decimal(p["USD_out"])]
    assert rows["buy"] == [str(max(usd_in)), usd_in.count(max(usd_in)), len(usd_in)] == ["2.0550", 2, 165]
    assert rows["sell"] == [str(min(usd_out)), usd_out.count(min(usd_out)), len(usd_out)] == ["2.0660", 1, 165]
    # A cross rate's best is the most the client gets for one unit, on both sides.
    crosses = dict(conn.execute("SELECT side, rate_text FROM bank_best WHERE city = 'Минск' AND code = 'USD'"
                                " AND against = 'EUR'"))
    assert crosses == {"buy": str(max(Decimal(p["USD_EUR_in"]) for p in minsk if Decimal(p["USD_EUR_in"]))),
                       "sell": str(max(Decimal(p["USD_EUR_out"]) for p in minsk if Decimal(p["USD_EUR_out"])))}


def test_bank_spread_against_the_official_rate(conn):
    row = conn.execute("SELECT buy, sell, official_date, official, buy_pct, sell_pct FROM bank_spread"
                       " WHERE city = 'Минск' AND code = 'USD'").fetchone()
    official = Decimal("2.9463")  # NBRB, 2026-03-17
    pct = [float((100 * (Decimal(v) - official) / official).quantize(Decimal("0.01"), ROUND_HALF_UP))
           for v in ("2.0550", "2.0660")]
    assert row == (2.055, 2.066, "2026-03-17", 2.9463, *pct)
    rub = conn.execute("SELECT scale, official FROM bank_spread WHERE city = 'Брест' AND code = 'RUB'").fetchone()
    assert rub == (100, 3.6709)  # per 100 RUB, as the bank quotes


def test_the_views_read_the_open_rows_through_their_partial_index(conn):
    plan = " ".join(row[3] for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM bank_best WHERE city = 'Минск' AND code = 'USD'"))
    assert "bank_points_city (city=?)" in plan
    assert "bank_rates_open (point=? AND code=?)" in plan


def test_an_answer_is_one_transaction(store):
    """Nothing partial: a write failing on its last row leaves neither points nor rates."""
    from ticker.sources.belarusbank import Belarusbank
    from ticker.store import banks

    with bank_server() as bank:
        got = Belarusbank(bank.url).rates()
    quotes = got.quotes[:-1] + [got.quotes[-1]._replace(scale=None)]  # NOT NULL fails on the last insert
    with pytest.raises(sqlite3.IntegrityError, match="bank_rates.scale"):
        with banks.polling(store.db, "belarusbank") as poll:
            banks.write(store.db, poll, got.points, quotes)
    assert store.db.execute("SELECT (SELECT count(*) FROM bank_rates), (SELECT count(*) FROM bank_points)").fetchone() \
        == (0, 0)
    (status, error), = store.db.execute("SELECT status, error FROM bank_polls").fetchall()
    assert status == "error" and "NOT NULL constraint failed: bank_rates.scale" in error
