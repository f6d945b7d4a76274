"""`sync.banks.poll` for each of the four feeds built from FACTS: real local fakes of the bank and of
NBRB, a real SQLite file. The poll runs on 2026-03-17, whose official rates are recorded.

Each is stored whole and as meant: the channel (cash or non-cash) and the tier of each value kept,
a cross rate's sell side checked and named in the way the feed quotes it (`BankRate.per`), units a
feed states taken as stated; points without a city (Belgazprombank's and Dabrabyt's branches,
Alfa-Bank's bank-wide rates) kept, in no city.
"""

import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from support import minsk, write_config
from support.bank_feeds import (
    alfa_quotes,
    belgazprombank_data,
    belgazprombank_quotes,
    dabrabyt_data,
    dabrabyt_quotes,
    feed_server,
    mtbank_data,
    mtbank_quotes,
    section,
)

from ticker.sync import banks as bank_sync
from ticker import config as configuration
from ticker.model import BANK_WIDE
from ticker.sync.official import Sync


@pytest.fixture
def polled(tmp_path, nbrb):
    """poll(bank): the bank's fake polled once on 2026-03-17 12:00 into a database holding NBRB's rates of that day."""
    def poll(bank_id):
        with feed_server(bank_id) as bank:
            config = configuration.load(write_config(tmp_path, nbrb.url, track={"currencies": '["*"]'},
                                                     **{bank_id: section(bank)}))
            sync = Sync(config)
            sync.fetch([date(2026, 3, 17)])
            sync.store.close()
            with minsk("2026-03-17 12:00"):
                done = bank_sync.poll(config, bank_id)
        return done, sqlite3.connect(config.database.path)
    return poll


def now(db, bank_id) -> list[tuple]:
    return db.execute("SELECT point_id, code, against, side, rate_text, scale, checked FROM bank_rates_now"
                      " WHERE bank = ?", [bank_id]).fetchall()


def test_mtbank_polls_into_the_store(polled):
    done, db = polled("mtbank")
    data = mtbank_data()
    assert db.execute("SELECT bank, point_id, city, label, address FROM bank_points ORDER BY id").fetchall() == [
        ("mtbank", d["id"], d["city"], d["label"], d["address"]) for d in data["departments"]]
    quoted = mtbank_quotes(data)
    assert done.refused == []  # its cross sell sides, quoted like its buy sides, are checked that way
    stored = db.execute("SELECT point_id, code, against, side, rate_text, channel, checked FROM bank_rates_now"
                        " WHERE bank = 'mtbank'").fetchall()
    assert {row[:6] for row in stored} == quoted
    assert done.rates == len(stored) == len(quoted) == 91
    assert {checked for *_, checked in stored} == {1}
    # Cash and non-cash kept apart: the office's two USD buy rates, each of its channel.
    office = {(r, ch) for p, c, a, s, r, ch, _ in stored if (p, c, a, s) == ("168,768,968,868", "USD", "BYN", "buy")}
    assert office == {(text, channel) for p, c, a, s, text, channel in quoted
                      if (p, c, a, s) == ("168,768,968,868", "USD", "BYN", "buy")} and len(office) == 2
    # The city's best cash buy is the best of the cash rates, never a card rate.
    cash = [Decimal(r) for p, c, a, s, r, ch in quoted if (c, a, s, ch) == ("USD", "BYN", "buy", "cash")]
    assert db.execute("SELECT rate_text, banks FROM bank_best WHERE city = 'Минск' AND code = 'USD' AND against = 'BYN'"
                      " AND side = 'buy' AND channel = 'cash'").fetchall() == [(str(max(cash)), "mtbank")]
    assert db.execute("SELECT DISTINCT effective_at FROM bank_rates_now").fetchall() == [("2026-03-17",)]
    # EUR/USD sell, 1.1050 USD for 1 EUR: named the way MTBank quotes it.
    assert db.execute("SELECT DISTINCT rate_text, quoted, per FROM bank_rates_now WHERE point_id = '51' AND code = 'EUR'"
                      " AND against = 'USD' AND side = 'sell'").fetchall() == [("1.1050", "USD per 1 EUR", "EUR")]
    assert db.execute("SELECT latitude, longitude FROM bank_points WHERE point_id = '51'").fetchone() == tuple(
        next(d for d in data["departments"] if d["id"] == "51")[k] for k in ("y", "x"))


def test_belgazprombank_polls_into_the_store(polled):
    done, db = polled("belgazprombank")
    assert db.execute("SELECT point_id, city, label FROM bank_points ORDER BY id").fetchall() == [
        (b["name"], "", b["name"]) for b in belgazprombank_data()]
    quoted = belgazprombank_quotes()
    assert done.refused == []
    stored = db.execute("SELECT point_id, code, against, side, rate_text, scale, min_amount, max_amount, typical"
                        " FROM bank_rates_now WHERE bank = 'belgazprombank'").fetchall()
    assert sorted(row[:8] for row in stored) == sorted(
        (*q[:6], format(q[6], "f"), "" if q[7] is None else format(q[7], "f")) for q in quoted)
    # Each tier kept with its range; the one from 0 is what a typical exchange gets.
    assert {(low, typical) for *_, low, high, typical in stored} == {("0", 1), ("10000", 0)}
    # Its branches name no city: they are in no city's answer.
    assert db.execute("SELECT count(*) FROM bank_best").fetchone() == (0,)


def test_alfabank_polls_its_bank_wide_point_into_the_store(polled):
    from ticker.store import reader

    done, db = polled("alfabank")
    assert db.execute("SELECT bank, point_id, city, label FROM bank_points").fetchall() == [
        ("alfabank", BANK_WIDE, "", "Alfa-Bank: bank-wide rates")]
    quoted = alfa_quotes()
    assert done.refused == []
    stored = now(db, "alfabank")
    assert {(c, a, s, r, scale) for _, c, a, s, r, scale, _ in stored} == quoted
    assert ("RUB", "BYN", "buy", "3.450000", 100) in quoted  # quantity 100 kept as the scale
    db.row_factory = sqlite3.Row
    [wide] = reader.bank_elsewhere(db, "USD")  # counted in no city: shown apart
    usd = {s: Decimal(r) for c, a, s, r, _ in quoted if (c, a) == ("USD", "BYN")}
    assert (wide.banks, wide.buy.rate, wide.sell.rate) == (("alfabank",), usd["buy"], usd["sell"])
    assert [p.point_id for p in wide.buy.points] == [BANK_WIDE]


def test_dabrabyt_polls_into_the_store(polled):
    done, db = polled("dabrabyt")
    assert db.execute("SELECT point_id, city FROM bank_points ORDER BY id").fetchall() == [
        (f["name"], "") for f in dabrabyt_data()["filials"]]
    quoted = dabrabyt_quotes()
    assert done.refused == []
    stored = now(db, "dabrabyt")
    assert {(p, c, a, s, r) for p, c, a, s, r, _, _ in stored} == quoted
    assert db.execute("SELECT DISTINCT effective_at FROM bank_rates_now").fetchall() == [("2026-03-17 14:15",)]
