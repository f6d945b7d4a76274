"""The NBRB client against a real local HTTP server: exact values, traps and faults."""

import logging
import re
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from support import minsk
from support.nbrb_server import JSON

from ticker.errors import BadResponse, DamagedResponse, SourceUnavailable
from ticker.model import MONTHLY, Rate
from ticker.sources.nbrb import NBRB, NBRBMonthly


@pytest.fixture(autouse=True)
def today():
    """The recordings end on 2026-03-17: that is today, so 2026-03-18 is not published yet."""
    with minsk("2026-03-17 18:51"):
        yield


@pytest.fixture
def client(nbrb):
    return NBRB(nbrb.url, timeout=1, retries=2, backoff=0.01)


def test_day_parses_exact_decimals(client):
    rates = {r.code: r for r in client.day(date(2024, 1, 10))}
    assert rates["USD"].rate == Decimal("3.1949")
    assert rates["USD"].cur_id == 431 and rates["USD"].scale == 1 and rates["USD"].unit == "BYN"


def test_day_keeps_scale_as_published(client):
    rates = {r.code: r for r in client.day(date(2026, 3, 17))}
    assert len(rates) == 30
    assert (rates["RUB"].scale, str(rates["RUB"].rate)) == (100, "3.6709")
    assert (rates["KZT"].scale, rates["IRR"].scale, rates["JPY"].scale) == (1000, 100000, 100)


def test_day_before_the_redenomination_is_marked_byr(client):
    rates = {r.code: r for r in client.day(date(2015, 1, 1))}
    assert (str(rates["USD"].rate), rates["USD"].unit, rates["USD"].cur_id) == ("11900.00", "BYR", 145)


def test_unpublished_day_is_an_empty_list(client):
    assert client.day(date(2026, 3, 18)) == []


def test_dynamics_keeps_trailing_zeros(client):
    usd = next(r for r in client.currencies() if r.cur_id == 431)
    rates = client.span(usd, date(2024, 1, 1), date(2024, 7, 31))
    assert len(rates) == 213
    by_day = {r.date: r for r in rates}
    assert str(by_day[date(2024, 1, 5)].rate) == "3.1980"
    assert by_day[date(2024, 1, 10)].rate == Decimal("3.1949")
    # Weekends repeat Friday's rate.
    assert by_day[date(2024, 1, 13)].rate == by_day[date(2024, 1, 12)].rate == Decimal("3.1636")


def test_dynamics_with_a_hole_is_refused_after_its_retries(nbrb, client):
    usd = next(r for r in client.currencies() if r.cur_id == 431)
    body = b"[" + b",".join(
        b'{"Cur_ID":431,"Date":"2024-01-%02dT00:00:00","Cur_OfficialRate":3.19%02d}' % (d, d) for d in (10, 11, 13)
    ) + b"]"
    nbrb.script("/exrates/rates/dynamics/431", *[(200, {"Content-Type": "application/json"}, body)] * 3)
    with pytest.raises(DamagedResponse, match="days missing between 2024-01-10 and 2024-01-13, still after 2 retries"):
        client.span(usd, date(2024, 1, 10), date(2024, 1, 15))


def test_catalogue_resolves_the_cur_id_of_each_day(client):
    records = client.currencies()
    [(before, *_)] = NBRB.periods(NBRB, records, "USD", date(2021, 7, 8), date(2021, 7, 8))
    [(after, *_)] = NBRB.periods(NBRB, records, "USD", date(2021, 7, 9), date(2021, 7, 9))
    assert (before.cur_id, after.cur_id) == (145, 431)
    spans = NBRB.periods(NBRB, records, "RUB", date(2016, 6, 1), date(2021, 8, 1))
    assert [(c.cur_id, c.scale, a, b) for c, a, b in spans] == [
        (190, 1, date(2016, 6, 1), date(2016, 6, 30)),
        (298, 100, date(2016, 7, 1), date(2021, 7, 8)),
        (456, 100, date(2021, 7, 9), date(2021, 8, 1)),
    ]


def test_dynamics_refuses_a_span_over_365_days_or_outside_the_cur_id(client):
    usd = next(r for r in client.currencies() if r.cur_id == 431)
    with pytest.raises(ValueError):
        client.span(usd, date(2024, 1, 1), date(2024, 12, 31))
    with pytest.raises(ValueError):
        client.span(usd, date(2021, 7, 8), date(2021, 7, 9))


def test_404_problem_json_is_a_clear_error(nbrb, client):
    nbrb.script("/exrates/rates", (404, {"Content-Type": "application/problem+json"},
                                   b'{"title":"Not Found","status":404}'))
    with pytest.raises(BadResponse, match=r"^NBRB sent a response that cannot be used: .*HTTP 404 Not Found"):
        client.day(date(2024, 1, 10))


def test_5xx_then_success_is_retried(nbrb, client):
    nbrb.script("/exrates/rates", (500, {}, b"oops"), (503, {}, b"busy"))
    assert {r.code for r in client.day(date(2024, 1, 10))} >= {"USD", "EUR"}
    assert len(nbrb.requests) == 3


def test_5xx_past_the_retries_names_the_url_and_mirror_hint(nbrb, client):
    nbrb.script("/exrates/rates", *[(502, {}, b"bad gateway")] * 3)
    with pytest.raises(SourceUnavailable, match=r"HTTP 502.*nbrb.base_url"):
        client.day(date(2024, 1, 10))


def test_429_honours_retry_after(nbrb, client):
    nbrb.script("/exrates/rates", (429, {"Retry-After": "1"}, b""))
    started = time.monotonic()
    assert client.day(date(2024, 1, 10))
    # Behaviour, not speed: the client must have waited the second the server asked for.
    assert time.monotonic() - started >= 1
    assert len(nbrb.requests) == 2


@pytest.mark.parametrize("body, problem", [
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbrev', "malformed JSON"),
    (b'{"Cur_ID":431}', "expected a list of objects"),
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":0}]', "Cur_OfficialRate is"),
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":-3.1}]', "Cur_OfficialRate is"),
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":"3.19"}]', "Cur_OfficialRate is"),
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":NaN}]', "Cur_OfficialRate is"),
    (b'[{"Cur_ID":431,"Date":"10.01.2024","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":3.1949}]', "field Date"),
    # More decimals than the store's exact per-unit integer holds (10^-16 BYN).
    (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
     b'"Cur_OfficialRate":3.19490000000000000001}]', "USD on 2024-01-10: 3.19490000000000000001 BYN per 1 is not"),
])
def test_malformed_responses_raise(nbrb, client, body, problem):
    nbrb.script("/exrates/rates", *[(200, {"Content-Type": "application/json; charset=utf-8"}, body)] * 3)
    with pytest.raises(BadResponse, match=problem):
        client.day(date(2024, 1, 10))


def test_html_error_page_is_not_json(nbrb, client):
    nbrb.script("/exrates/rates", *[(200, {"Content-Type": "text/html"}, b"<html><body>Maintenance</body></html>")] * 3)
    with pytest.raises(DamagedResponse, match="expected JSON, got text/html: <html><body>Maintenance"):
        client.day(date(2024, 1, 10))
    assert len(nbrb.requests) == 3


@pytest.mark.parametrize("fault", ["truncate", "cut", "html", "empty", "hole"])
def test_each_damaged_answer_is_retried_then_the_good_one_is_used(nbrb, client, fault):
    usd = next(r for r in client.currencies() if r.cur_id == 431)
    nbrb.reset_log()
    nbrb.script("/exrates/rates/dynamics/", fault, fault)
    rates = client.span(usd, date(2024, 1, 10), date(2024, 1, 15))
    assert [(r.date.day, str(r.rate)) for r in rates] == [
        (10, "3.1949"), (11, "3.1760"), (12, "3.1636"), (13, "3.1636"), (14, "3.1636"), (15, "3.1537")]
    assert len(nbrb.requests) == 3 and [f for _, f in nbrb.faults] == [fault, fault]


@pytest.mark.parametrize("fault, problem", [
    ("truncate", "malformed JSON"),
    ("cut", "the answer broke off"),
    ("html", "expected JSON, got text/html"),
    ("empty", "it listed no rates in force on 2026-03-17, a day already published"),
])
def test_a_damaged_list_past_the_retries_is_a_damaged_response(nbrb, client, fault, problem):
    nbrb.script("/exrates/rates", fault, fault, fault)
    with pytest.raises(DamagedResponse, match=rf"^NBRB sent a damaged response: {nbrb.url}/exrates/rates\?ondate="
                                              rf"2026-03-17&periodicity=0: {problem}.*, still after 2 retries; set "):
        client.day(date(2026, 3, 17))
    assert len(nbrb.requests) == 3


def test_an_empty_list_for_a_day_not_yet_published_is_no_damage(nbrb, client):
    assert client.day(date(2026, 3, 18)) == []
    assert len(nbrb.requests) == 1


def test_a_well_formed_but_wrong_answer_is_not_retried(nbrb, client):
    body = (b'[{"Cur_ID":431,"Date":"2024-01-10T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,'
            b'"Cur_OfficialRate":0}]')
    nbrb.script("/exrates/rates", (200, {"Content-Type": JSON}, body))
    with pytest.raises(BadResponse) as raised:
        client.day(date(2024, 1, 10))
    assert not isinstance(raised.value, DamagedResponse)
    assert len(nbrb.requests) == 1


def test_a_byte_order_mark_before_the_json_is_accepted(nbrb, client):
    nbrb.bom = True
    rates = {r.code: r for r in client.day(date(2026, 3, 17))}
    assert (rates["RUB"].scale, str(rates["RUB"].rate)) == (100, "3.6709")
    assert len(nbrb.requests) == 1


def test_damage_and_5xx_share_one_budget_and_one_backoff_schedule(nbrb):
    client = NBRB(nbrb.url, timeout=1, retries=2, backoff=0.2)
    nbrb.script("/exrates/rates", (503, {}, b"busy"), "truncate", (503, {}, b"busy"))
    with pytest.raises(SourceUnavailable, match="HTTP 503, still after 2 retries"):
        client.day(date(2024, 1, 10))
    assert len(nbrb.requests) == 3  # not 3 for the 5xx and 3 more for the damage

    nbrb.reset_log()
    nbrb.script("/exrates/rates", (503, {}, b"busy"), "truncate")
    started = time.monotonic()
    assert {r.code for r in client.day(date(2024, 1, 10))} >= {"USD", "EUR"}
    # The second retry in a row waits 2 x backoff, whichever fault came first.
    assert time.monotonic() - started >= 0.4
    assert len(nbrb.requests) == 3


def test_requests_asked_at_once_from_several_threads_each_have_their_own_budget(nbrb, caplog):
    # A backfill asks for a few spans at once: each keeps its own retries and backoff schedule.
    caplog.set_level(logging.DEBUG, "ticker.http")
    client = NBRB(nbrb.url, timeout=1, retries=2, backoff=0.1)  # retries wait long enough to overlap
    records = {r.cur_id: r for r in client.currencies()}
    faults = {431: ["truncate", (503, {}, b"busy")], 451: ["empty"] * 3, 456: [(503, {}, b"busy"), "html"],
              429: ["reset"]}
    for cur_id, script in faults.items():
        nbrb.script(f"/exrates/rates/dynamics/{cur_id}", *script)
    start, answers = threading.Barrier(len(faults)), {}

    def ask(cur_id):
        start.wait(timeout=10)
        try:
            answers[cur_id] = client.span(records[cur_id], date(2026, 3, 1), date(2026, 3, 17))
        except DamagedResponse as exc:
            answers[cur_id] = exc

    threads = [threading.Thread(target=ask, args=(cur_id,)) for cur_id in faults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert {cur_id: len(a) for cur_id, a in answers.items() if isinstance(a, list)} == {431: 17, 456: 17, 429: 17}
    assert str(answers[431][9].rate) == "2.9189"  # USD on 2026-03-10
    assert str(answers[451]).endswith("no EUR rates (Cur_ID 451) for 2026-03-01..2026-03-17, days already published,"
                                      " still after 2 retries; set nbrb.base_url in the config to use a mirror or proxy")
    retries = {}
    for record in caplog.records:
        attempt, budget, wait, cur_id = re.match(r"retry (\d) of (\d) in ([\d.]+) s: .*/dynamics/(\d+)\?",
                                                 record.getMessage()).groups()
        retries.setdefault(int(cur_id), []).append(f"{attempt}/{budget} after {wait} s")
    assert retries == {431: ["1/2 after 0 s", "2/2 after 0.2 s"], 451: ["1/2 after 0 s", "2/2 after 0.2 s"],
                       456: ["1/2 after 0 s", "2/2 after 0.2 s"], 429: ["1/2 after 0 s"]}


def test_retries_are_logged_in_our_words_at_debug_never_urllib3s_warning(nbrb, client, caplog):
    caplog.set_level(logging.DEBUG)
    nbrb.script("/exrates/rates", "reset", (502, {}, b"bad gateway"))
    client.day(date(2026, 3, 17))
    nbrb.script("/exrates/rates", "html")
    client.day(date(2026, 3, 17))
    ours = [r for r in caplog.records if r.name == "ticker.http"]
    url = f"{nbrb.url}/exrates/rates?ondate=2026-03-17&periodicity=0"
    assert [(r.levelname, r.getMessage()) for r in ours] == [
        ("DEBUG", f"retry 1 of 2 in 0 s: {url}: connection closed by the server"),
        ("DEBUG", f"retry 2 of 2 in 0.02 s: {url}: HTTP 502"),
        ("DEBUG", f"retry 1 of 2 in 0 s: {url}: expected JSON, got text/html; charset=utf-8: <html><head><title>502 "
                  "Bad Gateway</title></head><body>The proxy could not reach"),
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if "Retrying (" in r.getMessage()]


def test_a_null_date_end_is_an_open_record(nbrb, client):
    for record in nbrb.catalogue:
        if record["Cur_DateEnd"].startswith("2050"):
            record["Cur_DateEnd"] = None
    records = client.currencies()
    usd = next(r for r in records if r.cur_id == 431)
    assert (usd.start, usd.end) == (date(2021, 7, 9), date(2050, 1, 1))
    [(current, first, last)] = NBRB.periods(NBRB, records, "USD", date(2026, 3, 17), date(2026, 3, 17))
    assert current.cur_id == 431


def test_timeout_is_reported_after_retries(nbrb):
    client = NBRB(nbrb.url, timeout=0.3, retries=1, backoff=0.01)
    nbrb.script("/exrates/rates", ("delay", 1), ("delay", 1))
    with pytest.raises(SourceUnavailable, match=r"no answer within 0.3 s, still after 1 retry; set nbrb.base_url"):
        client.day(date(2024, 1, 10))
    assert len(nbrb.requests) == 2


def test_slow_answer_within_retries_succeeds(nbrb, client):
    nbrb.script("/exrates/rates", ("delay", 1.5))
    assert client.day(date(2024, 1, 10))
    assert len(nbrb.requests) == 2


def test_connection_reset_is_retried(nbrb, client):
    nbrb.script("/exrates/rates", "reset")
    assert client.day(date(2024, 1, 10))


def test_unreachable_server_names_url_and_reason(nbrb):
    url = nbrb.url
    nbrb.stop()
    client = NBRB(url, timeout=1, retries=0)
    with pytest.raises(SourceUnavailable, match=rf"^Could not reach NBRB: {url}/exrates/currencies: "
                                                r"Connection refused; set nbrb.base_url"):
        client.currencies()


# -- the monthly list (NBRBMonthly): made-up rates, see support.nbrb_data.monthly_rates ---------------


@pytest.fixture
def monthly(nbrb):
    return NBRBMonthly(nbrb.url, timeout=1, retries=2, backoff=0.01)


def test_monthly_list_of_a_day_gives_each_rate_dated_the_day_it_was_set(monthly, nbrb):
    rates = {r.code: r for r in monthly.day(date(2022, 7, 15))}
    assert set(rates) == {"BRL", "KRW", "THB"}
    assert rates["BRL"] == Rate("BRL", date(2022, 7, 1), 10, Decimal("5.6123"), "BYN", 326, MONTHLY)
    assert (rates["KRW"].scale, str(rates["KRW"].rate), rates["KRW"].cur_id) == (1000, "2.0092", 515)
    assert nbrb.requests == [("/exrates/rates", {"ondate": "2022-07-15", "periodicity": "1"})]


def test_monthly_span_is_the_list_of_its_last_day_keeping_what_was_set_from_its_first(monthly, nbrb):
    # Every Cur_ID changed on 2021-07-09: the list of 07-08 still shows BRL's 305, set on 07-01 ...
    assert [(r.code, r.date, r.cur_id, str(r.rate)) for r in monthly.span(None, date(2021, 7, 1), date(2021, 7, 8))
            if r.code == "BRL"] == [("BRL", date(2021, 7, 1), 305, "5.5822")]
    # ... the list of 07-31 the new 326, set on 07-09 at the same rate.
    brl = next(r for r in monthly.currencies() if r.cur_id == 326)
    assert monthly.span(brl, date(2021, 7, 1), date(2021, 7, 31)) == [
        Rate("BRL", date(2021, 7, 9), 10, Decimal("5.5822"), "BYN", 326, MONTHLY)]
    # A rate set before `first` is left out: the list of 07-08 shows those set on 07-01.
    assert monthly.span(None, date(2021, 7, 2), date(2021, 7, 8)) == []
    with pytest.raises(ValueError, match="not inside one month"):
        monthly.span(None, date(2021, 7, 1), date(2021, 8, 1))


def test_monthly_spans_are_one_list_a_month_the_same_for_every_code(monthly):
    records = monthly.currencies()
    brl = monthly.spans(records, "BRL", date(2021, 6, 15), date(2022, 9, 30))
    assert brl[:4] == [(None, date(2021, 6, 1), date(2021, 6, 30)), (None, date(2021, 7, 1), date(2021, 7, 8)),
                       (None, date(2021, 7, 1), date(2021, 7, 31)), (None, date(2021, 8, 1), date(2021, 8, 31))]
    assert brl[-1] == (None, date(2022, 7, 1), date(2022, 7, 31))  # monthly until 2022-07-31 only
    assert len(brl) == 2 + 13  # June 2021 to July 2022, July 2021 twice (one list per Cur_ID)
    krw = monthly.spans(records, "KRW", date(2021, 6, 15), date(2022, 9, 30))
    assert set(brl) <= set(krw) and len(krw) == len(brl) + 2  # August and September 2022 too
    assert monthly.spans(records, "USD", date(2021, 6, 15), date(2022, 9, 30)) == []  # not a monthly currency


def test_an_empty_monthly_list_for_a_published_day_is_damaged_and_retried(monthly, nbrb):
    nbrb.script("/exrates/rates", "empty")
    assert {r.code for r in monthly.day(date(2026, 3, 17))} == {"KRW", "THB"}
    nbrb.script("/exrates/rates", *["empty"] * 3)
    with pytest.raises(DamagedResponse, match="it listed no monthly rates in force on 2026-03-17, a day already "
                                              "published, still after 2 retries"):
        monthly.day(date(2026, 3, 17))


def test_a_monthly_rate_dated_after_the_day_asked_is_refused(monthly, nbrb):
    body = (b'[{"Cur_ID":515,"Date":"2026-03-20T00:00:00","Cur_Abbreviation":"KRW","Cur_Scale":1000,'
            b'"Cur_Name":"x","Cur_OfficialRate":2.1367}]')
    nbrb.script("/exrates/rates", (200, {"Content-Type": JSON}, body))
    with pytest.raises(BadResponse, match="a monthly rate set on 2026-03-20, after the day asked"):
        monthly.day(date(2026, 3, 17))


# -- codes that are not three capital letters ---------------------------------------------------------

ODD = {9001: "pln", 9002: "<img src=x onerror=alert(1)>", 9003: "ЮАН", 9004: "US\x1b[2JD"}


def test_odd_codes_are_skipped_with_one_warning_each_and_never_cost_the_rest(tmp_path, nbrb):
    """In the catalogue and in the day's list (the fake lists every catalogue record with a rate):
    `pln` beside PLN, markup, Cyrillic letters and a terminal escape, each on a record of its own."""
    import sqlite3
    import subprocess

    from support import write_config
    from support.daemon import PINNED
    from support.nbrb_data import catalogue, recorded_rates

    pln = next(r for r in nbrb.catalogue if r["Cur_ID"] == 452)
    for cur_id, code in ODD.items():
        nbrb.catalogue.append({**pln, "Cur_ID": cur_id, "Cur_Abbreviation": code})
        nbrb.add_rates(cur_id, {"2026-03-16": "4.1234"})
    listed = {code: text for (_, day), (code, _, text) in recorded_rates().items() if day == "2026-03-16"}
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["*"]', "since": "2026-03-16"})
    done = subprocess.run([*PINNED, "--config", str(config), "fetch", "--date", "2026-03-16"], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    shown = {9001: "'pln'", 9002: "'<img src=x onerror=alert(1)>'", 9003: "'ЮАН'", 9004: "'US\\x1b[2JD'"}
    assert done.stderr.splitlines() == [
        f"Warning: NBRB: skipped {what} with the code {shown[cur_id]} (Cur_ID {cur_id}): a currency code is three"
        " capital letters (ISO 4217)"
        for what in ("a catalogue record", "a row of the daily list") for cur_id in ODD]
    assert "\x1b" not in done.stdout + done.stderr
    with sqlite3.connect(tmp_path / "rates.sqlite") as conn:
        rates = dict(conn.execute("SELECT code, rate_text FROM rates WHERE date = '2026-03-16' AND periodicity = 0"))
        plns = conn.execute("SELECT cur_id, code FROM currencies WHERE code LIKE 'pln' OR cur_id > 9000").fetchall()
    # Every other row of the answer is stored, PLN's once and under its own Cur_ID; no odd code is.
    assert rates == listed and len(rates) == 30
    assert rates["PLN"] == listed["PLN"] and done.stdout.count(" PLN = ") == 1
    # The catalogue keeps every record of PLN, and none of the odd ones.
    assert sorted(plns) == sorted((r["Cur_ID"], "PLN") for r in catalogue() if r["Cur_Abbreviation"] == "PLN")
