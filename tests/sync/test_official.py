"""Source -> store with the real client, a real local server and real SQLite files."""

import json
import re
import sqlite3
import threading
import time
from collections import Counter
from datetime import date

import pytest
from support import minsk, write_config
from support.nbrb_data import recorded_rates

from ticker import config as configuration
from ticker.days import each_day
from ticker.errors import Incomplete, NoData
from ticker.sync.official import GIVE_UP, ROUNDS, SHOWN, Sync
from ticker.sync.pool import OPEN


def make_sync(tmp_path, nbrb, source="nbrb", **sections) -> Sync:
    return Sync(configuration.load(write_config(tmp_path, nbrb.url, **sections)), source=source)


def rows(sync, sql, *params):
    return sync.store.db.execute(sql, params).fetchall()


def dynamics_requests(nbrb):
    return [(path, q["startdate"], q["enddate"]) for path, q in nbrb.requests if "/dynamics/" in path]


@pytest.fixture
def usd_gbp(tmp_path, nbrb):
    return make_sync(tmp_path, nbrb, track={"currencies": '["USD", "GBP"]', "since": "2024-01-01"})


def test_backfill_stores_every_recorded_value_exactly(usd_gbp, nbrb):
    summary = usd_gbp.backfill(until=date(2024, 7, 31))
    assert summary == {"USD": [213, 0], "GBP": [213, 0]}
    recorded = {(code, day): (scale, text) for (cur_id, day), (code, scale, text) in recorded_rates().items()
                if cur_id in (431, 429) and "2024-01-01" <= day <= "2024-07-31"}
    stored = {(code, day): (scale, text) for code, day, scale, text in
              rows(usd_gbp, "SELECT code, date, scale, rate_text FROM rates")}
    assert stored == recorded
    assert stored["USD", "2024-01-10"] == (1, "3.1949")
    assert stored["USD", "2024-01-05"] == (1, "3.1980")
    # One catalogue read, then one dynamics request per currency (asked at once): 213 days fit in one span.
    paths = [path for path, _ in nbrb.requests]
    assert paths[0] == "/exrates/currencies"
    assert sorted(paths[1:]) == ["/exrates/rates/dynamics/429", "/exrates/rates/dynamics/431"]


def test_backfill_twice_changes_nothing_and_asks_nothing(usd_gbp, nbrb):
    usd_gbp.backfill(until=date(2024, 7, 31))
    before = rows(usd_gbp, "SELECT * FROM rates ORDER BY code, date")
    nbrb.reset_log()
    assert Sync(usd_gbp.config).backfill(until=date(2024, 7, 31)) == {}
    assert nbrb.requests == []
    assert rows(usd_gbp, "SELECT * FROM rates ORDER BY code, date") == before
    assert rows(usd_gbp, "SELECT count(*) FROM revisions") == [(0,)]


def test_backfill_fills_only_the_missing_days(usd_gbp, nbrb):
    usd_gbp.backfill(until=date(2024, 7, 31), codes=["USD"])
    usd_gbp.store.db.execute("DELETE FROM rates WHERE code = 'USD' AND date BETWEEN '2024-03-05' AND '2024-03-09'")
    usd_gbp.store.db.conn.commit()
    nbrb.reset_log()
    assert usd_gbp.backfill(until=date(2024, 7, 31), codes=["USD"]) == {"USD": [5, 0]}
    assert dynamics_requests(nbrb) == [("/exrates/rates/dynamics/431", "2024-03-05", "2024-03-09")]


def test_backfill_splits_at_the_cur_id_switch_of_2021_07_09(tmp_path, nbrb):
    nbrb.add_rates(145, {f"2021-07-{d:02}": f"2.52{d:02}" for d in range(1, 9)})
    nbrb.add_rates(431, {f"2021-07-{d:02}": f"2.53{d:02}" for d in range(9, 16)})
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD"]', "since": "2021-07-01"})
    assert sync.backfill(until=date(2021, 7, 15)) == {"USD": [15, 0]}
    assert sorted(dynamics_requests(nbrb)) == [
        ("/exrates/rates/dynamics/145", "2021-07-01", "2021-07-08"),
        ("/exrates/rates/dynamics/431", "2021-07-09", "2021-07-15"),
    ]
    assert rows(sync, "SELECT date, cur_id, rate_text FROM rates WHERE date IN ('2021-07-08', '2021-07-09')") == [
        ("2021-07-08", 145, "2.5208"), ("2021-07-09", 431, "2.5309")]


def test_redenomination_and_scale_change_are_marked_and_normalised(tmp_path, nbrb):
    # RUB: Cur_ID 190 per 1 RUB in BYR until 2016-06-30, then 298 per 100 RUB in BYN.
    nbrb.add_rates(190, {"2016-06-29": "296.50", "2016-06-30": "297.10"})
    nbrb.add_rates(298, {"2016-07-01": "2.9710", "2016-07-02": "2.9710"})
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["RUB"]', "since": "2016-06-29"})
    sync.backfill(until=date(2016, 7, 2))
    assert rows(sync, "SELECT date, scale, rate_text, unit, byn_per_unit FROM rates_byn ORDER BY date") == [
        ("2016-06-29", 1, "296.50", "BYR", 296.50 / 10000),
        ("2016-06-30", 1, "297.10", "BYR", 297.10 / 10000),
        ("2016-07-01", 100, "2.9710", "BYN", 2.9710 / 100),
        ("2016-07-02", 100, "2.9710", "BYN", 2.9710 / 100),
    ]


def test_every_span_is_at_most_365_days_inside_one_cur_id(tmp_path):
    from support.nbrb_data import synthetic_server

    with synthetic_server(since="2016-07-01", until="2019-01-01") as server:
        sync = Sync(configuration.load(write_config(tmp_path, server.url, track={
            "currencies": '["EUR", "USD", "RUB"]', "since": "2016-07-01"})))
        summary = sync.backfill(until=date(2019, 1, 1))
        spans = dynamics_requests(server)
    days = (date(2019, 1, 1) - date(2016, 7, 1)).days + 1
    assert summary == {"EUR": [days, 0], "USD": [days, 0], "RUB": [days, 0]}
    for _, first, last in spans:
        assert (date.fromisoformat(last) - date.fromisoformat(first)).days < 365
    assert len(spans) == 3 * 3  # 915 days: three spans each
    assert rows(sync, "SELECT count(*) FROM rates") == [(3 * days,)]


def test_a_span_still_failing_is_set_aside_and_the_others_are_stored(usd_gbp, nbrb):
    # retries = 2: three answers per request, and ROUNDS more rounds at the end of the run.
    nbrb.script("/exrates/rates/dynamics/429", *["empty"] * 3 * (1 + ROUNDS))
    with pytest.raises(Incomplete) as failed:
        usd_gbp.backfill(until=date(2024, 7, 31))
    assert str(failed.value).startswith(
        f"NBRB answered only in part: still failing after {ROUNDS} more rounds: GBP 2024-01-01..2024-07-31 "
        f"(NBRB sent a damaged response: {nbrb.url}/exrates/rates/dynamics/429?startdate=2024-01-01&enddate=2024-07-31:"
        " no GBP rates (Cur_ID 429) for 2024-01-01..2024-07-31, days already published, still after 2 retries")
    assert (failed.value.stored, failed.value.result) == (213, {"USD": [213, 0]})
    assert rows(usd_gbp, "SELECT code, count(*) FROM rates GROUP BY code") == [("USD", 213)]
    assert rows(usd_gbp, "SELECT kind, status, rows_new FROM fetches WHERE kind = 'backfill'") == [
        ("backfill", "error", 213)]
    assert len(dynamics_requests(nbrb)) == 1 + 3 * (1 + ROUNDS)
    # A later run completes exactly.
    assert Sync(usd_gbp.config).backfill(until=date(2024, 7, 31)) == {"GBP": [213, 0]}


def test_a_span_set_aside_is_tried_again_at_the_end_of_the_same_run(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD", "EUR", "RUB"]', "since": "2026-03-01"})
    nbrb.script("/exrates/rates/dynamics/451", "truncate", "html", (503, {}, b"busy"))
    assert sync.backfill(until=date(2026, 3, 17)) == {"USD": [17, 0], "EUR": [17, 0], "RUB": [17, 0]}
    asked = [path[-3:] for path, *_ in dynamics_requests(nbrb)]
    # EUR three times (its retries), then once more in the round at the end, after the others.
    assert Counter(asked) == {"431": 1, "451": 4, "456": 1} and asked[-1] == "451"
    assert rows(sync, "SELECT rate_text FROM rates WHERE code = 'EUR' AND date = '2026-03-10'") == [("3.3727",)]
    assert rows(sync, "SELECT status FROM fetches WHERE kind = 'backfill'") == [("ok",)]


def test_a_source_that_is_down_is_not_asked_for_the_rest_of_the_plan(tmp_path, nbrb):
    codes = ["USD", "EUR", "RUB", "GBP", "CNY", "PLN", "JPY", "KZT", "UAH", "CHF", "AED", "AMD", "AUD", "CAD"]
    sync = make_sync(tmp_path, nbrb, track={"currencies": json.dumps(codes), "since": "2026-03-01"})
    sync.catalogue()
    nbrb.fault_mix(0, {"5xx": 1.0})
    with pytest.raises(Incomplete) as failed:
        sync.backfill(until=date(2026, 3, 17))
    assert re.fullmatch(r"NBRB answered only in part: stopped asking after 3 requests failed in a row: "
                        + ", ".join(f"{code} 2026-03-01..2026-03-17" for code in codes[:SHOWN])
                        + rf" and {len(codes) - SHOWN} more currencies \(Could not reach NBRB: .*/dynamics/\d+\?.*HTTP 50\d.*\)",
                        str(failed.value))
    # WORKERS on the wire at once and at most OPEN begun (a request waiting for its retry gives its
    # worker to the next one), each failure making room for one more: after the third failure in a
    # row nothing more is begun, and a request still waiting for a retry is set aside unasked.
    # Three tries at most each (retries = 2).
    asked = dynamics_requests(nbrb)
    begun = len({path for path, *_ in asked})
    assert GIVE_UP <= begun <= OPEN + GIVE_UP - 1 < len(codes)
    assert len(asked) <= 3 * begun
    assert rows(sync, "SELECT count(*) FROM rates") == [(0,)]


def test_one_currency_failing_throughout_never_stops_the_others_being_asked(tmp_path):
    from support.nbrb_data import synthetic_server

    # EUR (Cur_ID 451 since 2021-07-09) answers 503 to every request: five yearly spans since
    # 2022-01-01, each tried three times (retries = 2), in every round. Asked one currency after
    # another, its failures in a row would say "the source is down" and stop USD and RUB.
    with synthetic_server(since="2022-01-01", until="2026-03-17") as server:
        sync = make_sync(tmp_path, server, track={"currencies": '["EUR", "USD", "RUB"]', "since": "2022-01-01"})
        server.script("/exrates/rates/dynamics/451", *[(503, {}, b"busy")] * 3 * 5 * (1 + ROUNDS))
        with pytest.raises(Incomplete) as failed:
            sync.backfill(until=date(2026, 3, 17))
    # Only EUR is named (in the rounds at the end, EUR alone is left to ask: it may be given up).
    assert re.match(r"NBRB answered only in part: [^:]*: EUR 2022-01-01\.\.2026-03-17 \(Could not reach NBRB: ",
                    str(failed.value))
    days = (date(2026, 3, 17) - date(2022, 1, 1)).days + 1
    assert dict(rows(sync, "SELECT code, count(*) FROM rates GROUP BY code")) == {"USD": days, "RUB": days}


def test_a_truncated_response_is_retried_and_never_stored(usd_gbp, nbrb):
    nbrb.script("/exrates/rates/dynamics/429", (200, {"Content-Type": "application/json"},
                                                b'[{"Cur_ID":429,"Date":"2024-01-01T00:00:00","Cur_Offi'))
    assert usd_gbp.backfill(until=date(2024, 7, 31)) == {"USD": [213, 0], "GBP": [213, 0]}
    assert rows(usd_gbp, "SELECT rate_text FROM rates WHERE code = 'GBP' AND date = '2024-01-10'") == [
        (recorded_rates()[429, "2024-01-10"][2],)]


def test_the_fault_mix_ends_with_every_row_exact(tmp_path):
    from support.nbrb_data import synthetic_server

    codes = '["USD", "EUR", "RUB", "CNY", "PLN", "GBP", "JPY", "KZT", "UAH", "CHF"]'
    with synthetic_server(since="2019-01-01", until="2026-03-17") as server:
        config = configuration.load(write_config(tmp_path, server.url, track={"currencies": codes, "since": "2019-01-01"}))
        with minsk("2026-03-17 10:00"):
            server.fault_mix(8, {"5xx": 0.15, "reset": 0.05, "truncate": 0.05, "html": 0.03, "empty": 0.05})
            Sync(config).backfill(until=date(2026, 3, 17))
            kinds = {fault if isinstance(fault, str) else "5xx" for _, fault in server.faults}
            faults = len(server.faults)
            server.fault_mix(0, {})
            reference = tmp_path / "reference"
            reference.mkdir()
            clean = Sync(configuration.load(write_config(reference, server.url, track={
                "currencies": codes, "since": "2019-01-01"})))
            clean.backfill(until=date(2026, 3, 17))
    assert len(kinds) >= 4 and faults >= 20  # each kind alone: tests/sources/test_nbrb.py
    query = "SELECT code, date, scale, rate_text, unit, cur_id FROM rates ORDER BY code, date"
    with sqlite3.connect(config.database.path) as conn:
        assert conn.execute(query).fetchall() == clean.store.db.execute(query).fetchall()
        assert len(conn.execute(query).fetchall()) == 10 * 2633


def test_an_unknown_code_is_said_once_and_never_stops_the_others(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD", "XYZ"]', "since": "2024-01-01"})
    said = "XYZ: NBRB does not quote it (it is not in NBRB's catalogue of currencies)"
    sync.backfill(until=date(2024, 1, 31))
    assert rows(sync, "SELECT code, count(*) FROM rates GROUP BY code") == [("USD", 31)]
    assert sync.notes == [said]
    with minsk("2026-03-17 18:51"):
        [(day, new, _)] = sync.fetch()
    assert (day, [r.code for r in new]) == (date(2026, 3, 17), ["USD"])
    assert sync.notes == [said]


# -- currencies that end or change kind ---------------------------------------------------------


@pytest.fixture
def bgn_brl(nbrb):
    """BGN quoted until 2025-12-31 (Cur_ID 441), BRL daily from 2022-08-01 (514): made-up rates
    around the recorded ones, every day."""
    nbrb.add_rates(441, {d.isoformat(): "1.7284" for d in each_day(date(2025, 12, 1), date(2025, 12, 31))})
    nbrb.add_rates(514, {d.isoformat(): "5.4627" for d in each_day(date(2022, 8, 1), date(2022, 8, 31))})
    nbrb.add_rates(514, {d.isoformat(): "5.5000" for d in each_day(date(2025, 12, 1), date(2026, 3, 15))})
    nbrb.add_rates(431, {d.isoformat(): "2.9000" for d in each_day(date(2022, 7, 25), date(2022, 8, 31))})
    nbrb.add_rates(431, {d.isoformat(): "2.9500" for d in each_day(date(2025, 12, 25), date(2026, 2, 28))})
    return nbrb


def test_an_ended_currency_never_blocks_the_others(tmp_path, bgn_brl):
    sync = make_sync(tmp_path, bgn_brl, track={"currencies": '["USD", "BGN"]', "since": "2025-12-25"})
    with minsk("2026-03-17 18:51"):
        assert sync.backfill(until=date(2026, 3, 17)) == {"USD": [83, 0], "BGN": [7, 0]}
        assert sync.notes == ["BGN: NBRB stopped quoting it after 2025-12-31"]
        report = sync.fetch([date(2026, 3, 16)])
    assert [(day, [r.code for r in new]) for day, new, _ in report] == [(date(2026, 3, 16), [])]
    assert sync.notes == ["BGN: NBRB stopped quoting it after 2025-12-31"]
    assert rows(sync, "SELECT max(date) FROM rates WHERE code = 'BGN'") == [("2025-12-31",)]
    assert rows(sync, "SELECT status FROM fetches WHERE kind <> 'catalogue'") == [("ok",), ("ok",)]
    # A poll is not held back by BGN's last day: it asks once, for the day after USD's last.
    bgn_brl.reset_log()
    with minsk("2026-03-17 18:51"):
        assert sync.poll() == []
    assert [q["ondate"] for _, q in bgn_brl.requests] == ["2026-03-18"]


def test_a_currency_set_monthly_then_daily_is_recorded_from_each_list_in_turn(tmp_path, bgn_brl):
    # BRL was set monthly until 2022-07-31 and daily since: each list's Sync records its own days,
    # and neither says BRL has no rate before 2022-08-01 (the monthly list has).
    sync = make_sync(tmp_path, bgn_brl, track={"currencies": '["USD", "BRL"]', "since": "2022-07-25"})
    with minsk("2026-03-17 18:51"):
        summary = sync.backfill(until=date(2022, 8, 31))
        assert summary == {"USD": [38, 0], "BRL": [31, 0]}
        monthly = Sync(sync.config, sync.store, "nbrb-monthly")
        monthly.notes = sync.notes
        assert monthly.backfill(until=date(2022, 8, 31)) == {"BRL": [1, 0]}
    assert sync.notes == []
    assert rows(sync, "SELECT date, periodicity, cur_id, rate_text FROM rates WHERE code = 'BRL' AND date < '2022-08-03'"
                      " ORDER BY date") == [("2022-07-01", 1, 326, "5.6123"), ("2022-08-01", 0, 514, "5.4627"),
                                            ("2022-08-02", 0, 514, "5.4627")]
    # The monthly list was asked once, for July (set on 2022-07-01, in force on 2022-07-25).
    assert [q for path, q in bgn_brl.requests if q.get("periodicity") == "1"] == [
        {"ondate": "2022-07-31", "periodicity": "1"}]
    assert rows(sync, "SELECT cur_id, periodicity, date_end FROM currencies WHERE code = 'BRL' ORDER BY date_start") == [
        (305, 1, "2021-07-08"), (326, 1, "2022-07-31"), (514, 0, "2050-01-01")]
    # A day's daily list without BRL, before its first daily rate, is no failure and no note.
    sync.store.db.execute("DELETE FROM rates WHERE date = '2022-07-30'")
    sync.store.db.conn.commit()
    again = make_sync(tmp_path, bgn_brl, track={"currencies": '["USD", "BRL"]'})
    with minsk("2026-03-17 18:51"):
        report = again.fetch([date(2022, 7, 30)])
    assert [(day, [(r.code, str(r.rate)) for r in new]) for day, new, _ in report] == [
        (date(2022, 7, 30), [("USD", "2.9000")])]
    assert again.notes == []


def test_a_day_no_list_quotes_is_a_note_naming_no_list(tmp_path, bgn_brl):
    # BRL's first record (monthly) starts on 2016-07-01: before it, neither list has BRL.
    sync = make_sync(tmp_path, bgn_brl, track={"currencies": '["BRL"]', "since": "2016-06-25"})
    with minsk("2026-03-17 18:51"):
        monthly = Sync(sync.config, sync.store, "nbrb-monthly")
        monthly.notes = sync.notes
        assert monthly.backfill(until=date(2016, 7, 3)) == {"BRL": [1, 0]}
        assert sync.backfill(until=date(2016, 7, 3)) == {}
    assert sync.notes == ["BRL has no rate before 2016-07-01"]
    assert rows(sync, "SELECT date, cur_id, rate_text, periodicity FROM rates") == [("2016-07-01", 305, "6.0422", 1)]


# -- NBRB's monthly list (made-up rates: support.nbrb_data.monthly_rates) ----------------------------


def monthly_lists(nbrb):
    return [q["ondate"] for path, q in nbrb.requests if path == "/exrates/rates" and q["periodicity"] == "1"]


def test_the_monthly_list_costs_one_request_a_month_for_every_monthly_currency(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, "nbrb-monthly", track={"currencies": '["*"]', "since": "2016-07-01"})
    with minsk("2026-03-17 18:51"):
        summary = sync.backfill()
    # BRL monthly until 2022-07 (and again on 2021-07-09, under its new Cur_ID); KRW and THB still.
    assert summary == {"BRL": [61 + 13, 0], "KRW": [61 + 57, 0], "THB": [61 + 57, 0]}
    asked = monthly_lists(nbrb)
    # 117 months from 2016-07 to 2026-03, each month's last day (today for March 2026), and 2021-07-08
    # too: the last day of the old Cur_IDs. The catalogue once, nothing else.
    assert len(asked) == len(set(asked)) == 117 + 1
    assert {"2016-07-31", "2021-07-08", "2021-07-31", "2024-02-29", "2026-02-28", "2026-03-17"} <= set(asked)
    assert len(nbrb.requests) == 1 + 118
    assert rows(sync, "SELECT code, date, scale, rate_text, cur_id FROM rates WHERE periodicity = 1 AND date IN"
                      " ('2016-07-01', '2021-07-09', '2026-03-01') ORDER BY code, date") == [
        ("BRL", "2016-07-01", 10, "6.0422", 305), ("BRL", "2021-07-09", 10, "5.5822", 326),
        ("KRW", "2016-07-01", 1000, "1.7369", 327), ("KRW", "2021-07-09", 1000, "1.9346", 515),
        ("KRW", "2026-03-01", 1000, "2.1367", 515),
        ("THB", "2016-07-01", 100, "5.6351", 328), ("THB", "2021-07-09", 100, "7.0570", 516),
        ("THB", "2026-03-01", 100, "8.4410", 516)]
    assert rows(sync, "SELECT count(*) FROM rates WHERE periodicity = 0") == [(0,)]
    # Every month has its rate: a second backfill asks nothing, and neither does the next day's.
    nbrb.reset_log()
    with minsk("2026-03-18 00:07"):
        assert Sync(sync.config, source="nbrb-monthly").backfill() == {}
    assert nbrb.requests == []


def test_a_monthly_backfill_asks_only_the_missing_months_and_stores_only_what_is_tracked(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD", "KRW"]', "since": "2024-01-01"})
    monthly = Sync(sync.config, sync.store, "nbrb-monthly")
    with minsk("2026-03-17 18:51"):
        assert monthly.backfill() == {"KRW": [27, 0]}  # 2024-01 to 2026-03
        sync.store.db.execute("DELETE FROM rates WHERE code = 'KRW' AND date IN ('2024-05-01', '2025-11-01')")
        sync.store.db.conn.commit()
        nbrb.reset_log()
        assert monthly.backfill() == {"KRW": [2, 0]}
    assert sorted(monthly_lists(nbrb)) == ["2024-05-31", "2025-11-30"]
    assert rows(sync, "SELECT DISTINCT code FROM rates") == [("KRW",)]  # THB is in the lists, but not tracked
    assert rows(sync, "SELECT rate_text FROM rates WHERE code = 'KRW' AND date = '2024-05-01'") == [("2.0730",)]


def test_the_daily_list_leaves_a_monthly_currency_to_the_monthly_one(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD", "KRW"]', "since": "2026-03-01"})
    with minsk("2026-03-17 18:51"):
        assert sync.backfill() == {"USD": [17, 0]}
        report = sync.fetch([date(2026, 3, 16)])  # no KRW in the daily list: no failure, no note
        assert [(day, len(new)) for day, new, _ in report] == [(date(2026, 3, 16), 0)]
        nbrb.reset_log()
        assert sync.poll() == []  # from USD's last day, not KRW's
    assert [q["ondate"] for _, q in nbrb.requests] == ["2026-03-18"]
    assert sync.notes == [] and monthly_lists(nbrb) == []
    (tmp_path / "krw").mkdir()
    only_krw = make_sync(tmp_path / "krw", nbrb, track={"currencies": '["KRW"]', "since": "2026-03-01"})
    nbrb.reset_log()
    with minsk("2026-03-17 18:51"):
        assert only_krw.backfill() == {}  # nothing of the daily list to ask for
        assert Sync(only_krw.config, only_krw.store, "nbrb-monthly").backfill() == {"KRW": [1, 0]}
    assert [path for path, _ in nbrb.requests] == ["/exrates/currencies", "/exrates/rates"]


def test_monthly_lists_under_the_fault_mix_end_exact(tmp_path, nbrb):
    config = {"currencies": '["*"]', "since": "2020-01-01"}
    reference = make_sync(tmp_path, nbrb, "nbrb-monthly", track=config)
    with minsk("2026-03-17 18:51"):
        reference.backfill()
        faulty = tmp_path / "faulty"
        faulty.mkdir()
        sync = make_sync(faulty, nbrb, "nbrb-monthly", track=config)
        sync.catalogue()
        nbrb.fault_mix(10, {"5xx": 0.15, "reset": 0.05, "truncate": 0.05, "html": 0.03, "empty": 0.05})
        sync.backfill()
        faults = len(nbrb.faults)
        nbrb.fault_mix(0, {})
    query = "SELECT code, date, scale, rate_text, unit, cur_id, periodicity FROM rates ORDER BY code, date"
    assert faults >= 10 and rows(sync, query) == rows(reference, query)
    # BRL 2020-01..2022-07, KRW and THB 2020-01..2026-03, each also set on 2021-07-09 (its new Cur_ID)
    assert len(rows(sync, query)) == 32 + 76 + 76


def test_backfill_ends_where_nbrb_does(tmp_path, nbrb):
    for day in ("2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21", "2026-03-22"):
        nbrb.add_rates(431, {day: "2.9500"})
        nbrb.add_rates(451, {day: "3.3800"})
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["USD", "EUR"]', "since": "2026-03-10"})
    with minsk("2026-03-19 13:30"):  # Thursday afternoon: Friday to Sunday are published
        nbrb.today = "2026-03-19"
        summary = sync.backfill()
    assert summary == {"USD": [13, 0], "EUR": [13, 0]}
    assert rows(sync, "SELECT max(date) FROM rates") == [("2026-03-22",)]
    assert [q["ondate"] for path, q in nbrb.requests if path == "/exrates/rates"] == [
        "2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23"]


def test_fetch_records_today_and_stops_at_the_first_unpublished_day(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb)
    with minsk("2026-03-17 18:51"):
        report = sync.fetch()
    assert [(day, len(new), changed) for day, new, changed in report] == [(date(2026, 3, 17), 30, [])]
    assert [q["ondate"] for _, q in nbrb.requests] == ["2026-03-17", "2026-03-18"]
    assert rows(sync, "SELECT scale, rate_text, cur_id FROM rates WHERE code = 'RUB'") == [(100, "3.6709", 456)]
    with minsk("2026-03-17 18:55"):
        again = sync.fetch()
    assert [(day, new, changed) for day, new, changed in again] == [(date(2026, 3, 17), [], [])]


def test_a_republished_value_is_revised_not_overwritten_silently(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb, track={"currencies": '["RUB", "USD"]'})
    sync.fetch([date(2026, 3, 16)])
    old = rows(sync, "SELECT rate_text FROM rates WHERE code = 'RUB' AND date = '2026-03-16'")[0][0]
    nbrb.add_rates(456, {"2026-03-16": "3.7000"})
    [(day, new, changed)] = sync.fetch([date(2026, 3, 16)])
    assert new == [] and [(r.code, str(r.rate), before) for r, before in changed] == [("RUB", "3.7000", old)]
    assert rows(sync, "SELECT code, date, old_rate_text, new_rate_text FROM revisions") == [
        ("RUB", "2026-03-16", old, "3.7000")]
    assert rows(sync, "SELECT rate_text FROM rates WHERE code = 'RUB' AND date = '2026-03-16'") == [("3.7000",)]


def test_fetch_of_an_unpublished_day_is_a_user_error(tmp_path, nbrb):
    sync = make_sync(tmp_path, nbrb)
    with minsk("2026-03-17 18:51"), pytest.raises(NoData, match="rates for 2026-03-19 are not published yet"):
        sync.fetch([date(2026, 3, 19)])


def test_readers_see_a_consistent_file_while_it_is_written(usd_gbp, nbrb):
    # GBP's answer comes late, so the reader surely looks while USD is stored and GBP is not yet.
    nbrb.script("/exrates/rates/dynamics/429", ("delay", 0.5))
    path = usd_gbp.config.database.path
    seen, errors, stop = [], [], threading.Event()

    def read():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                seen.append(conn.execute("SELECT (SELECT count(*) FROM rates WHERE code = 'USD'),"
                                         " (SELECT count(*) FROM rates WHERE code = 'GBP')").fetchone())
                assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
            except Exception as exc:  # noqa: BLE001 - every failure of the reader is the finding
                errors.append(exc)
            time.sleep(0.002)
        conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        usd_gbp.backfill(until=date(2024, 7, 31))
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not reader.is_alive() and errors == []
    # Each currency's 213 days are one transaction: a reader sees none of them or all, never part.
    assert set(seen) <= {(0, 0), (213, 0), (213, 213)}, set(seen)
    assert (213, 0) in seen, "the reader never looked between the two batches"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT count(*) FROM rates").fetchone() == (426,)
