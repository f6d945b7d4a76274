"""Bank source -> store: real local servers for Belarusbank and NBRB, real SQLite files.

The bank's recorded 2019 answer is polled with the clock pinned to 2026-03-17, a day whose
official rates are recorded, so every rate is checked against NBRB's of the same day.
"""

import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from support import minsk, write_config
from support.banks import (
    answer,
    bank_section,
    like_2026,
    nonzero,
    recorded_points,
)

from ticker.sync import banks as bank_sync
from ticker import config as configuration
from ticker.errors import BadResponse
from ticker.store import reader
from ticker.sync.official import Sync

DAY = "2026-03-17"


def make_config(tmp_path, nbrb, bank, **keys):
    return configuration.load(write_config(tmp_path, nbrb.url, track={"currencies": '["*"]'},
                                           belarusbank=bank_section(bank, **keys)))


@pytest.fixture
def config(tmp_path, nbrb, bank):
    """A database with NBRB's official rates of 2026-03-17 (all 30 daily currencies)."""
    config = make_config(tmp_path, nbrb, bank)
    sync = Sync(config)
    sync.fetch([date.fromisoformat(DAY)])
    sync.store.close()
    return config


def poll(config, at=f"{DAY} 12:00"):
    with minsk(at):
        return bank_sync.poll(config)


def query(config, sql, *params):
    with sqlite3.connect(config.database.path) as conn:
        return conn.execute(sql, params).fetchall()


def best(config, code="USD", city="Минск", at=None):
    conn = reader.connect(config.database.path)
    try:
        return reader.bank_rates(conn, code, city, at)
    finally:
        conn.close()


def minsk_usd(points):
    """The best USD rates in Minsk, computed from the answer's JSON: the highest buy, the lowest sell."""
    rows = [p for p in points if p["name"] == "Минск" and Decimal(p["USD_in"]) != 0]
    return max(Decimal(p["USD_in"]) for p in rows), min(Decimal(p["USD_out"]) for p in rows)


def test_the_recorded_answer_is_stored_exactly_and_checked_against_nbrb(config):
    done = poll(config)
    recorded = recorded_points()
    count = sum(len(nonzero(p)) for p in recorded)
    assert (done.points, done.rates, done.changed, done.ended, done.refused) == (542, count, count, 0, [])
    assert query(config, "SELECT count(*), sum(checked) FROM bank_rates_now") == [(count, count)]
    assert query(config, "SELECT count(*) FROM bank_points") == [(542,)]
    assert query(config, "SELECT status, points, quotes, changed, ended, refused, error FROM bank_polls") == [
        ("ok", 542, count, count, 0, 0, None)]
    # Each distinct value and each distinct rate set stored once, computed here from the JSON: a
    # row per point in bank_point_sets, with no set for the 5 points that quote nothing.
    quoted = [tuple(sorted((key, p[key]) for key in nonzero(p))) for p in recorded]
    values = {(key, text) for rates in quoted for key, text in rates}
    assert (len(set(quoted) - {()}), len(values)) == (152, 467)
    assert query(config, "SELECT (SELECT count(*) FROM bank_sets), (SELECT count(*) FROM bank_values),"
                         " (SELECT count(*) FROM bank_set_values)") == [(152, 467, sum(map(len, set(quoted))))]
    assert query(config, "SELECT count(*), count(rate_set), count(last_poll) FROM bank_point_sets") == [(542, 537, 0)]
    # Exactly as published, with the scale NBRB quotes (RUB per 100, PLN per 10, crosses per 1).
    stored = {(pid, code, against, side): (scale, text) for pid, code, against, side, scale, text in query(
        config, "SELECT point_id, code, against, side, scale, rate_text FROM bank_rates_now")}
    assert stored["16", "USD", "BYN", "buy"] == (1, "2.0460")
    assert stored["16", "RUB", "BYN", "sell"] == (100, "3.2400")
    assert stored["16", "PLN", "BYN", "buy"] == (10, "4.7500")
    assert stored["16", "USD", "RUB", "buy"] == (1, "63.1480")
    assert stored["16", "USD", "RUB", "sell"] == (1, "0.0148")
    assert len(stored) == count


def test_the_best_usd_rates_in_minsk_in_2019(config):
    poll(config)
    buy, sell = minsk_usd(recorded_points())
    assert (buy, sell) == (Decimal("2.0550"), Decimal("2.0680"))
    got = best(config)
    assert (got.buy.rate, got.sell.rate) == (buy, sell)
    assert [(p.point_id, p.label, p.address) for p in got.buy.points] == [
        ("1433", "Головной офис 795", "пр. Дзержинского 18"), ("2670", "Отделение 795/413", "ул. Мясникова 32")]
    assert got.buy.quoting == sum(p["name"] == "Минск" and Decimal(p["USD_in"]) != 0 for p in recorded_points())
    assert (str(got.official.rate), got.official.date) == ("2.9463", date(2026, 3, 17))
    # (2.0550 - 2.9463) / 2.9463 * 100, exact
    assert got.vs_official(got.buy) == (Decimal("2.0550") - Decimal("2.9463")) * 100 / Decimal("2.9463")


def record(config):
    """Everything stored about the rates (not the points' last_seen, nor the polls)."""
    return [query(config, f"SELECT * FROM {table} ORDER BY 1, 2")
            for table in ("bank_values", "bank_sets", "bank_set_values", "bank_point_sets")]


def test_a_second_identical_poll_adds_no_rows(config):
    poll(config)
    before = record(config)
    done = poll(config, f"{DAY} 12:30")
    assert (done.changed, done.ended) == (0, 0)
    assert record(config) == before
    assert query(config, "SELECT count(DISTINCT last_seen), min(last_seen) > min(first_seen) FROM bank_points") == [(1, 1)]
    count = len(before[0]) and query(config, "SELECT count(*) FROM bank_rates_now")[0][0]
    assert query(config, "SELECT status, changed FROM bank_polls ORDER BY id") == [("ok", count), ("ok", 0)]


def test_a_point_whose_rates_changed_gets_new_rows_and_the_old_ones_end(config, bank):
    poll(config)
    first_seen = query(config, "SELECT finished_at FROM bank_polls")[0][0]
    points = recorded_points()
    minsk_head = next(p for p in points if p["filial_id"] == "1433")
    was = dict(minsk_head)
    minsk_head.update(USD_in="2.0600", USD_out="2.0650", GBP_in="0.0000", GBP_out="0.0000")
    answer(bank, points)
    done = poll(config, f"{DAY} 12:30")
    assert (done.changed, done.ended) == (2, 2)  # USD buy and sell changed; GBP no longer quoted
    second = query(config, "SELECT finished_at FROM bank_polls ORDER BY id")[1][0]
    # The point's row ends at the first answer and a new one starts with a new set; the values
    # that did not change (EUR, the crosses...) are still the same rows of bank_values.
    assert query(config, "SELECT ps.first_poll, ps.last_poll FROM bank_point_sets AS ps JOIN bank_points AS p"
                         " ON p.id = ps.point WHERE p.point_id = '1433' ORDER BY ps.first_poll") == [(1, 1), (2, None)]
    history = query(config, "SELECT code, side, rate_text, first_seen, last_seen, current FROM bank_history"
                            " WHERE point_id = '1433' AND against = 'BYN' AND code IN ('USD', 'GBP', 'EUR')"
                            " ORDER BY code, first_seen, side")
    assert history == [("EUR", "buy", was["EUR_in"], first_seen, second, 1),
                       ("EUR", "sell", was["EUR_out"], first_seen, second, 1),
                       ("GBP", "buy", was["GBP_in"], first_seen, first_seen, 0),
                       ("GBP", "sell", was["GBP_out"], first_seen, first_seen, 0),
                       ("USD", "buy", was["USD_in"], first_seen, first_seen, 0),
                       ("USD", "sell", was["USD_out"], first_seen, first_seen, 0),
                       ("USD", "buy", "2.0600", second, second, 1), ("USD", "sell", "2.0650", second, second, 1)]
    assert query(config, "SELECT code, side, first_seen FROM bank_rates_now WHERE point_id = '1433'"
                         " AND code IN ('USD', 'EUR') AND against = 'BYN' ORDER BY code, side") == [
        ("EUR", "buy", first_seen), ("EUR", "sell", first_seen), ("USD", "buy", second), ("USD", "sell", second)]
    now = best(config)
    assert (now.buy.rate, now.sell.rate) == minsk_usd(points) == (Decimal("2.0600"), Decimal("2.0650"))
    assert [p.point_id for p in now.buy.points] == ["1433"]
    before = best(config, at=first_seen)
    assert (before.buy.rate, before.sell.rate, before.as_of) == (Decimal("2.0550"), Decimal("2.0680"), first_seen)


def test_a_point_gone_from_the_answer_or_refused_no_longer_quotes(config, bank):
    poll(config)
    points = recorded_points()
    gone = points.pop(0)  # 16, Brest
    broken = next(p for p in points if p["filial_id"] == "1433")
    quoted_before = len(nonzero(broken))
    broken["EUR_in"] = "2,2600"  # a decimal comma: refused, the point with it
    answer(bank, points)
    done = poll(config, f"{DAY} 12:30")
    assert done.refused == ["Belarusbank: refused point 1433 (Минск, Головной офис 795): EUR_in is '2,2600', not a rate"]
    assert done.ended == len(nonzero(gone)) + quoted_before
    assert query(config, "SELECT p.point_id, ps.rate_set FROM bank_point_sets AS ps JOIN bank_points AS p"
                         " ON p.id = ps.point WHERE ps.first_poll = 2 ORDER BY p.point_id") == [("1433", None), ("16", None)]
    now = query(config, "SELECT DISTINCT point_id FROM bank_rates_now")
    assert ("16",) not in now and ("1433",) not in now and len(now) == 542 - 2 - 5  # and the five all-zero points
    assert query(config, "SELECT refused FROM bank_polls ORDER BY id DESC LIMIT 1") == [(1,)]
    got = best(config)
    assert [p.point_id for p in got.buy.points] == ["2670"]  # the other point at 2.0550


def test_a_2026_like_answer_keeps_kurs_date_time_and_the_cny_crosses(config, bank):
    answer(bank, like_2026(recorded_points(), "2026-03-17 09:30:00"))
    done = poll(config)
    assert done.refused == []
    assert query(config, "SELECT DISTINCT effective_at FROM bank_sets") == [("2026-03-17 09:30:00",)]
    assert query(config, "SELECT DISTINCT effective_at FROM bank_rates_now") == [("2026-03-17 09:30:00",)]
    assert query(config, "SELECT count(*) FROM bank_values WHERE code = 'UAH'") == [(0,)]
    # CNY_USD is checked against NBRB's CNY and USD: 0.1370 USD per 1 CNY, 7.0800 CNY per 1 USD
    assert query(config, "SELECT DISTINCT side, rate_text, scale, checked FROM bank_rates_now"
                         " WHERE code = 'CNY' AND against = 'USD' ORDER BY side") == [
        ("buy", "0.1370", 1, 1), ("sell", "7.0800", 1, 1)]


def test_a_rate_off_by_a_factor_of_10_or_more_is_refused_not_stored(config, bank):
    points = recorded_points()
    for p in points:
        if Decimal(p["RUB_in"]) != 0:  # RUB per 1 instead of per 100
            p["RUB_in"] = str(Decimal(p["RUB_in"]) / 100)
    head = next(p for p in points if p["filial_id"] == "1433")
    head["USD_RUB_in"], head["USD_RUB_out"] = head["USD_RUB_out"], head["USD_RUB_in"]  # reversed
    answer(bank, points)
    done = poll(config)
    rub_points = [p["filial_id"] for p in points if Decimal(p["RUB_in"]) != 0]
    assert len(rub_points) == 537
    usd, rub = Decimal("2.9463"), Decimal("3.6709")  # NBRB on 2026-03-17, per 1 USD and per 100 RUB
    mid = usd / (rub / 100)  # RUB per 1 USD
    given, taken = Decimal(head["USD_RUB_in"]), Decimal(head["USD_RUB_out"])
    assert (str(given), str(taken)) == ("0.0156", "63.2310")
    assert done.refused == [
        f"Belarusbank: refused cash RUB buy at 537 points ({', '.join(rub_points[:3])}, ...): 0.0306 BYN per 100 RUB is"
        f" 1/{rub / Decimal('0.0306'):.3g} of NBRB's 3.6709 BYN per 100 RUB on 2026-03-17; wrong scale?",
        f"Belarusbank: refused cash USD/RUB buy at 1 point (1433): 0.0156 RUB per 1 USD is 1/{mid / given:.3g} of NBRB's"
        f" cross rate {mid:.6g} on 2026-03-17; reversed?",
        f"Belarusbank: refused cash USD/RUB sell at 1 point (1433): 63.2310 USD per 1 RUB is {taken * mid:.3g} times NBRB's"
        f" cross rate {1 / mid:.6g} on 2026-03-17; reversed?",
    ]
    assert f"{rub / Decimal('0.0306'):.3g}" == "120" and f"{mid:.6g}".startswith("80.26")
    assert query(config, "SELECT count(*) FROM bank_values WHERE code = 'RUB' AND against = 'BYN' AND side = 'buy'") \
        == [(0,)]
    assert query(config, "SELECT count(*) FROM bank_rates_now WHERE code = 'RUB' AND against = 'BYN'"
                         " AND side = 'sell'") == [(537,)]
    assert query(config, "SELECT refused FROM bank_polls") == [(3,)]


def test_without_official_rates_the_banks_scales_are_stored_unchecked(tmp_path, nbrb, bank):
    config = make_config(tmp_path, nbrb, bank)
    points = recorded_points()
    points[0]["TRY_in"], points[0]["TRY_out"] = "1.5000", "1.7000"  # a code nobody has a scale for
    answer(bank, points)
    done = poll(config)
    assert done.refused == ["Belarusbank: refused cash TRY buy at 1 point (16): no scale known for TRY: NBRB has no"
                            " official rate for it in the database",
                            "Belarusbank: refused cash TRY sell at 1 point (16): no scale known for TRY: NBRB has no"
                            " official rate for it in the database"]
    assert query(config, "SELECT DISTINCT code, scale, checked FROM bank_values WHERE against = 'BYN'"
                         " AND code IN ('RUB', 'PLN', 'USD') ORDER BY code") == [
        ("PLN", 10, 0), ("RUB", 100, 0), ("USD", 1, 0)]
    assert best(config).official is None


def test_an_official_rate_of_the_week_before_still_checks(tmp_path, nbrb, bank):
    config = make_config(tmp_path, nbrb, bank)
    sync = Sync(config)
    sync.fetch([date(2026, 3, 12)])
    sync.store.close()
    poll(config)  # on 2026-03-17, five days later
    assert query(config, "SELECT min(checked) FROM bank_values WHERE code IN ('USD', 'RUB')") == [(1,)]
    before = record(config)
    poll(config, "2026-03-20 12:00")  # eight days later: stored values stay as they were checked
    assert record(config) == before
    assert query(config, "SELECT min(checked), count(*) FROM bank_rates_now WHERE code = 'USD'"
                         " AND against = 'BYN'") == [(1, 2 * 537)]


@pytest.mark.parametrize("bad, content_type, problem", [
    (b"<!DOCTYPE html><html><body>Technical works</body></html>", "text/html", "expected JSON, got text/html"),
    (None, "application/json", "malformed JSON"),
    (b"[]", "application/json", "lists no exchange points"),
])
def test_an_answer_that_cannot_be_used_stores_nothing(config, bank, bad, content_type, problem):
    # A damaged answer (an HTML page, a cut body) and a whole but useless one alike.
    poll(config)
    before = record(config), query(config, "SELECT * FROM bank_points")
    from support.banks import recorded_body

    answer(bank, bad if bad is not None else recorded_body()[:300_000], content_type)
    with pytest.raises(BadResponse, match=problem):
        poll(config, f"{DAY} 12:30")
    assert (record(config), query(config, "SELECT * FROM bank_points")) == before
    (status, error), = query(config, "SELECT status, error FROM bank_polls ORDER BY id DESC LIMIT 1")
    assert status == "error" and problem in error
    assert error.startswith("Belarusbank sent a damaged response" if "JSON" in problem
                            else "Belarusbank sent a response that cannot be used")
    assert best(config).buy.rate == Decimal("2.0550")  # the last good answer still stands


def test_cities_kept_and_a_city_dropped_later(tmp_path, nbrb, bank):
    config = make_config(tmp_path, nbrb, bank, cities='["Минск", "Брест"]')
    poll(config)
    assert query(config, "SELECT city, count(*) FROM bank_points GROUP BY city ORDER BY city") == [
        ("Брест", sum(p["name"] == "Брест" for p in recorded_points())), ("Минск", 169)]
    config = make_config(tmp_path, nbrb, bank, cities='["Минск"]')
    poll(config, f"{DAY} 12:30")
    assert query(config, "SELECT DISTINCT city FROM bank_rates_now") == [("Минск",)]


def test_a_point_whose_details_change_is_updated_in_place(config, bank):
    poll(config)
    (first_seen, changed_at), = query(config, "SELECT first_seen, changed_at FROM bank_points WHERE point_id = '16'")
    points = recorded_points()
    points[0].update(filials_text="Отделение 100/1050", info_worktime=points[0]["info_worktime"].replace(
        "Сб 9 00 15 00", "Сб 10 00 15 00"))  # as the 2023 fragment has it
    answer(bank, points)
    done = poll(config, f"{DAY} 12:30")
    assert (done.changed, done.ended) == (0, 0)
    row = query(config, "SELECT label, hours, first_seen, changed_at, last_seen FROM bank_points WHERE point_id = '16'")
    assert row == [("Отделение 100/1050", "Пн-Пт 09:00-19:00, Сб 10:00-15:00", first_seen, row[0][4], row[0][4])]
    assert row[0][4] > changed_at
    assert query(config, "SELECT count(*) FROM bank_points") == [(542,)]


def test_a_point_that_stops_quoting_and_comes_back_starts_a_new_run_of_the_same_set(config, bank):
    poll(config)
    points = recorded_points()
    head = next(p for p in points if p["filial_id"] == "1433")
    quoted = nonzero(head)
    head.update({key: "0.0000" for key in quoted})  # listed, quoting nothing
    answer(bank, points)
    assert poll(config, f"{DAY} 12:30").ended == len(quoted)
    stored = record(config)
    answer(bank, recorded_points())
    assert poll(config, f"{DAY} 13:00").changed == len(quoted)
    seen = [stamp for (stamp,) in query(config, "SELECT finished_at FROM bank_polls ORDER BY id")]
    # No set or value is stored twice: the point quotes the set it quoted before the break again.
    assert record(config)[:3] == stored[:3]
    spans = query(config, "SELECT ps.first_poll, ps.rate_set, ps.last_poll FROM bank_point_sets AS ps"
                          " JOIN bank_points AS p ON p.id = ps.point WHERE p.point_id = '1433' ORDER BY ps.first_poll")
    assert [(first, last) for first, _, last in spans] == [(1, 1), (2, 2), (3, None)]
    assert spans[0][1] == spans[2][1] is not None and spans[1][1] is None
    assert query(config, "SELECT rate_text, first_seen, last_seen, current FROM bank_history WHERE point_id = '1433'"
                         " AND code = 'USD' AND against = 'BYN' AND side = 'buy' ORDER BY first_seen") == [
        ("2.0550", seen[0], seen[0], 0), ("2.0550", seen[2], seen[2], 1)]
    assert query(config, "SELECT first_seen FROM bank_rates_now WHERE point_id = '1433' AND code = 'USD'"
                         " AND against = 'BYN' AND side = 'buy'") == [(seen[2],)]


def test_a_new_kurs_date_time_with_the_same_rates_is_a_new_set_of_the_same_values(config, bank):
    answer(bank, like_2026(recorded_points(), "2026-03-17 09:30:00"))
    poll(config)
    values, sets = query(config, "SELECT (SELECT count(*) FROM bank_values), (SELECT count(*) FROM bank_sets)")[0]
    answer(bank, like_2026(recorded_points(), "2026-03-17 12:20:00"))
    done = poll(config, f"{DAY} 12:30")
    assert (done.changed, done.ended) == (0, 0)
    assert query(config, "SELECT (SELECT count(*) FROM bank_values), (SELECT count(*) FROM bank_sets)") == [
        (values, 2 * sets)]
    first = query(config, "SELECT finished_at FROM bank_polls ORDER BY id")[0][0]
    # Each value is still the one first seen in the first answer, now in a set that took effect at 12:20.
    assert query(config, "SELECT DISTINCT effective_at, first_seen FROM bank_rates_now") == [
        ("2026-03-17 12:20:00", first)]
    head = next(p for p in like_2026(recorded_points()) if p["filial_id"] == "1433")
    assert query(config, "SELECT count(*), min(current) FROM bank_history WHERE point_id = '1433'") == [
        (len(nonzero(head)), 1)]


def test_an_answer_older_than_one_stored_meanwhile_is_not_stored(config, bank):
    from ticker.errors import Superseded
    from ticker.sources.belarusbank import Belarusbank
    from ticker.store import banks
    from ticker.store.writer import Store

    source = Belarusbank(bank.url)
    answer = source.rates()
    quotes, _ = bank_sync.check(source, answer.rates, {})  # the bank's own scales, unchecked
    store = Store(config.database.path)
    with minsk(f"{DAY} 12:00"):
        with pytest.raises(Superseded, match=r"^Not stored: belarusbank: the answer to poll 1 is older than poll 2's"):
            with banks.polling(store.db, "belarusbank") as older:
                with banks.polling(store.db, "belarusbank") as newer:
                    banks.write(store.db, newer, answer.points, quotes)
                banks.write(store.db, older, answer.points, quotes)
    assert query(config, "SELECT id, status FROM bank_polls ORDER BY id") == [(1, "error"), (2, "ok")]
    assert query(config, "SELECT DISTINCT first_poll FROM bank_point_sets") == [(2,)]
    store.close()


def test_a_rate_the_store_cannot_compare_exactly_is_refused(config, bank):
    points = recorded_points()
    points[0]["USD_in"] = "2.04600000000000001"  # 17 decimals: not a whole number of 10^-16 BYN
    answer(bank, points)
    done = poll(config)
    assert done.refused == ["Belarusbank: refused cash USD buy at 1 point (16): 2.04600000000000001 per 1 is not a whole"
                            " number of 10^-16 per unit; cannot be stored exactly"]
    assert query(config, "SELECT side FROM bank_rates_now WHERE point_id = '16' AND code = 'USD'"
                         " AND against = 'BYN'") == [("sell",)]
