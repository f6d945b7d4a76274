"""The bank tables and views on a real database filled by a real poll of the recorded 2019 answer."""

import sqlite3
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from support import minsk, write_config
from support.banks import answer, bank_section, bank_server, nonzero, recorded_points
from support.nbrb_data import recorded_server

from ticker.sync import banks as bank_sync
from ticker import config as configuration
from ticker.sync.official import Sync


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
    count = sum(len(nonzero(p)) for p in points)
    assert conn.execute("SELECT count(*) FROM bank_rates_now").fetchone() == (count,)
    # One point changed its set: one row more in bank_point_sets, and its new value once more in bank_values.
    assert conn.execute("SELECT count(*), count(last_poll) FROM bank_point_sets").fetchone() == (543, 1)
    row = conn.execute("SELECT city, address, label, rate_text, per_unit_e16, scale, quoted, checked FROM bank_rates_now"
                       " WHERE point_id = '1433' AND code = 'USD' AND against = 'BYN' AND side = 'sell'").fetchone()
    assert row == ("Минск", "пр. Дзержинского 18", "Головной офис 795", "2.0660", 20660 * 10**12, 1, "BYN per 1 USD", 1)
    quoted = dict(conn.execute("SELECT code || '/' || against || ' ' || side, quoted FROM bank_rates_now"
                               " WHERE point_id = '16'"))
    assert quoted["RUB/BYN buy"] == "BYN per 100 RUB"
    assert quoted["USD/EUR buy"] == "EUR per 1 USD"  # USD_EUR_in: the client gives 1 USD, gets EUR
    assert quoted["USD/EUR sell"] == "USD per 1 EUR"  # USD_EUR_out: the client gives 1 EUR, gets USD


def test_per_unit_e16_is_the_published_value_per_one_unit_exactly(conn, polled):
    brest = polled[1][0]  # filial 16
    exact = dict(((code, against, side), (text, e16)) for code, against, side, text, e16 in conn.execute(
        "SELECT code, against, side, rate_text, per_unit_e16 FROM bank_rates_now WHERE point_id = '16'"))
    for key, text in nonzero(brest).items():
        code, *cross, direction = key.split("_")
        scale = {"RUB": 100, "PLN": 10, "UAH": 100, "CNY": 10, "SEK": 10, "CZK": 100, "JPY": 100}.get(code, 1)
        per_unit = Decimal(brest[key]) / (1 if cross else scale)
        assert exact[code, cross[0] if cross else "BYN", "buy" if direction == "in" else "sell"] == (
            brest[key], int(per_unit * 10**16))
    assert exact["RUB", "BYN", "buy"] == ("3.0600", 306 * 10**12)  # 3.0600 BYN per 100 RUB
    assert exact["USD", "RUB", "sell"] == ("0.0148", 148 * 10**12)  # 0.0148 USD per 1 RUB


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
    # RUB is quoted per 100: compared per one rouble, exactly.
    rub = dict(conn.execute("SELECT side, rate_text || ' per ' || scale FROM bank_best WHERE city = 'Минск' AND against = 'BYN'"
                            " AND code = 'RUB'"))
    assert rub == {"buy": f"{max(Decimal(p['RUB_in']) for p in minsk if Decimal(p['RUB_in']))} per 100",
                   "sell": f"{min(Decimal(p['RUB_out']) for p in minsk if Decimal(p['RUB_out']))} per 100"}


def test_bank_spread_against_the_official_rate(conn):
    row = conn.execute("SELECT buy, sell, official_date, official, official_scale, buy_pct, sell_pct FROM bank_spread"
                       " WHERE city = 'Минск' AND code = 'USD'").fetchone()
    official = Decimal("2.9463")  # NBRB, 2026-03-17
    pct = [float((100 * (Decimal(v) - official) / official).quantize(Decimal("0.01"), ROUND_HALF_UP))
           for v in ("2.0550", "2.0660")]
    assert row == ("2.0550", "2.0660", "2026-03-17", "2.9463", 1, *pct) == (
        "2.0550", "2.0660", "2026-03-17", "2.9463", 1, -30.25, -29.88)
    rub = conn.execute("SELECT scale, official, official_scale FROM bank_spread WHERE city = 'Брест' AND code = 'RUB'"
                       ).fetchone()
    assert rub == (100, "3.6709", 100)  # per 100 RUB, as the bank quotes


def test_the_views_read_the_open_rows_through_their_partial_index(conn):
    for view in ("bank_best", "bank_spread", "bank_rates_now"):
        plan = " ".join(row[3] for row in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM {view} WHERE city = 'Минск' AND code = 'USD'"))
        assert "bank_points_city (city=?)" in plan, view
        assert "bank_point_sets_open (point=?)" in plan, view
        assert "SCAN ps" not in plan and "SCAN bank_point_sets" not in plan, view


def test_an_answer_is_one_transaction(store):
    """Nothing partial: a write failing on its last value leaves neither points nor rates."""
    from ticker.sources.belarusbank import Belarusbank
    from ticker.store import banks

    with bank_server() as bank:
        got = Belarusbank(bank.url).rates()
    quotes = [q._replace(scale=1 if q.cross else {"RUB": 100, "PLN": 10}.get(q.code, 1)) for q in got.rates]
    quotes[-1] = quotes[-1]._replace(checked=2)  # the CHECK on bank_values fails, after everything else
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed: checked IN"):
        with banks.polling(store.db, "belarusbank") as poll:
            banks.write(store.db, poll, got.points, quotes)
    assert store.db.execute("SELECT (SELECT count(*) FROM bank_values), (SELECT count(*) FROM bank_sets),"
                            " (SELECT count(*) FROM bank_point_sets), (SELECT count(*) FROM bank_points)").fetchone() \
        == (0, 0, 0, 0)
    (status, error), = store.db.execute("SELECT status, error FROM bank_polls").fetchall()
    assert status == "error" and "CHECK constraint failed: checked IN (0, 1)" in error
