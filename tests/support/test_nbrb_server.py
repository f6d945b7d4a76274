"""The fake NBRB server answers like the real API: byte for byte where we have recordings."""

import http.client
import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from support.nbrb_data import (
    catalogue,
    recorded_rates,
    recorded_server,
    shared_dir,
    synthetic_server,
)
from support.nbrb_server import FakeNBRB

SAMPLES = shared_dir() / "nbrb" / "samples"


def get(server: FakeNBRB, path: str) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of GET server.url + path, error statuses included."""
    try:
        with urllib.request.urlopen(server.url + path, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


@pytest.fixture
def recorded():
    with recorded_server(today="2026-03-17") as server:
        yield server


@pytest.fixture
def generated():
    """Catalogue and recorded rates but no recorded bodies: the fake builds every answer."""
    server = FakeNBRB(catalogue())
    for (cur_id, day), (_code, _scale, rate) in recorded_rates().items():
        server.add_rates(cur_id, {day: rate})
    with server:
        yield server


def test_recorded_body_is_served_verbatim_whatever_the_parameter_case(recorded):
    sample = (SAMPLES / "dynamics_431_2024-01-10_2024-01-15.json").read_bytes()
    assert get(recorded, "/exrates/rates/dynamics/431?startdate=2024-01-10&enddate=2024-01-15") == (
        200, "application/json; charset=utf-8", sample)
    assert get(recorded, "/exrates/rates/dynamics/431?EndDate=2024-01-15&StartDate=2024-01-10")[2] == sample


@pytest.mark.parametrize("path, sample", [
    ("/exrates/rates/dynamics/431?startdate=2024-01-10&enddate=2024-01-15",
     "dynamics_431_2024-01-10_2024-01-15.json"),
    ("/exrates/rates/dynamics/431?startdate=2024-01-01&enddate=2024-07-31",
     "dynamics_431_2024-01-01_2024-07-31.json"),
    ("/exrates/rates/USD?parammode=2&ondate=2024-01-10&periodicity=0",
     "rates_USD_parammode2_ondate_2024-01-10.json"),
    ("/exrates/rates?ondate=2026-03-17&periodicity=0", "rates_periodicity0_2026-03-17.json"),
    ("/exrates/rates?ondate=2015-01-01&periodicity=0",
     "rates_periodicity0_ondate_2015-01-01_pre_redenomination.json"),
])
def test_generated_bodies_equal_the_recorded_ones(generated, path, sample):
    assert get(generated, path) == (200, "application/json; charset=utf-8", (SAMPLES / sample).read_bytes())


def test_generated_dynamics_keeps_trailing_zeros(generated):
    _, _, body = get(generated, "/exrates/rates/dynamics/431?startdate=2024-01-04&enddate=2024-01-06")
    assert b'{"Cur_ID":431,"Date":"2024-01-05T00:00:00","Cur_OfficialRate":3.1980}' in body
    assert [row["Cur_OfficialRate"] for row in json.loads(body, parse_float=Decimal)] == [
        Decimal("3.1932"), Decimal("3.1980"), Decimal("3.1980")]


@pytest.mark.parametrize("path", ["/exrates/rates?ondate=2026-03-17&periodicity=0",
                                  "/exrates/rates?periodicity=0"])
@pytest.mark.parametrize("which", ["recorded", "generated"])
def test_list_for_2026_03_17(request, which, path):
    server = request.getfixturevalue(which)
    server.today = "2026-03-17"
    rates = json.loads(get(server, path)[2], parse_float=Decimal)
    assert len(rates) == 30
    rub = next(r for r in rates if r["Cur_Abbreviation"] == "RUB")
    assert (rub["Cur_ID"], rub["Cur_Scale"], str(rub["Cur_OfficialRate"])) == (456, 100, "3.6709")


def test_a_day_without_rates_gives_an_empty_list(generated):
    assert get(generated, "/exrates/rates?ondate=2026-03-18&periodicity=0")[::2] == (200, b"[]")


def test_the_monthly_list_dates_each_rate_the_day_it_was_set(recorded):
    # Made-up monthly rates (nbrb_data.monthly_rates): each the one in force on the day asked.
    listed = json.loads(get(recorded, "/exrates/rates?ondate=2022-07-15&periodicity=1")[2], parse_float=Decimal)
    assert [(r["Cur_Abbreviation"], r["Cur_ID"], r["Date"], r["Cur_Scale"], str(r["Cur_OfficialRate"])) for r in listed] == [
        ("BRL", 326, "2022-07-01T00:00:00", 10, "5.6123"),
        ("KRW", 515, "2022-07-01T00:00:00", 1000, "2.0092"),
        ("THB", 516, "2022-07-01T00:00:00", 100, "7.4552"),
    ]
    # BRL is daily from 2022-08-01: absent from the monthly list, present in the daily one.
    august = json.loads(get(recorded, "/exrates/rates?ondate=2022-08-20&periodicity=1")[2])
    assert [(r["Cur_Abbreviation"], r["Date"]) for r in august] == [
        ("KRW", "2022-08-01T00:00:00"), ("THB", "2022-08-01T00:00:00")]
    daily = json.loads(get(recorded, "/exrates/rates?ondate=2026-03-17&periodicity=0")[2])
    assert "KRW" not in {r["Cur_Abbreviation"] for r in daily} and "BRL" in {r["Cur_Abbreviation"] for r in daily}
    # On the day every Cur_ID changed, the new records carry a rate set that day.
    switched = json.loads(get(recorded, "/exrates/rates?ondate=2021-07-31&periodicity=1")[2])
    assert {(r["Cur_Abbreviation"], r["Cur_ID"], r["Date"][:10]) for r in switched} == {
        ("BRL", 326, "2021-07-09"), ("KRW", 515, "2021-07-09"), ("THB", 516, "2021-07-09")}


def test_dynamics_refuses_spans_over_365_days(generated):
    # The span is enddate - startdate: 365 here (366 calendar days, 2024 is a leap year) ...
    status, content_type, body = get(
        generated, "/exrates/rates/dynamics/431?startdate=2024-01-01&enddate=2024-12-31")
    assert status == 200 and len(json.loads(body)) == 359  # USD is recorded up to 2024-12-24
    # ... and 366 here.
    status, content_type, body = get(
        generated, "/exrates/rates/dynamics/431?startdate=2024-01-01&enddate=2025-01-01")
    assert (status, content_type, json.loads(body)["status"]) == (
        400, "application/problem+json; charset=utf-8", 400)


def test_unknown_currency_is_a_problem_404_like_nbrb(generated):
    status, content_type, body = get(
        generated, "/exrates/rates/INVALID?ondate=2024-01-10&parammode=2&periodicity=0")
    recorded = json.loads((SAMPLES / "error_404_rates_INVALID_parammode2.json").read_bytes())
    assert (status, content_type) == (404, "application/problem+json; charset=utf-8")
    assert json.loads(body).keys() == recorded.keys()
    assert get(generated, "/exrates/rates/dynamics/99999?startdate=2024-01-01&enddate=2024-01-02")[0] == 404


def test_scripted_503_then_normal_answers(recorded):
    recorded.script("/exrates/rates/dynamics/", (503, {"Retry-After": "0"}, b"busy"))
    path = "/exrates/rates/dynamics/431?startdate=2024-01-10&enddate=2024-01-15"
    assert get(recorded, path)[::2] == (503, b"busy")
    assert get(recorded, path)[0] == 200
    assert get(recorded, "/exrates/currencies")[0] == 200
    assert recorded.requests == [
        ("/exrates/rates/dynamics/431", {"startdate": "2024-01-10", "enddate": "2024-01-15"})] * 2 + [
        ("/exrates/currencies", {})]
    recorded.reset_log()
    assert recorded.requests == []


def test_scripted_reset_and_delay(recorded):
    recorded.script("/exrates/currencies", "reset", ("delay", 0.3))
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, urllib.error.URLError)):
        get(recorded, "/exrates/currencies")
    started = time.monotonic()
    assert get(recorded, "/exrates/currencies")[0] == 200
    assert time.monotonic() - started >= 0.3
    assert len(recorded.requests) == 2


def test_catalogue_resolves_usd_across_the_2021_id_change(recorded):
    records = json.loads(get(recorded, "/exrates/currencies")[2])

    def usd_on(day):
        [record] = [r for r in records if r["Cur_Abbreviation"] == "USD" and r["Cur_Periodicity"] == 0
                    and r["Cur_DateStart"][:10] <= day <= r["Cur_DateEnd"][:10]]
        return record["Cur_ID"], record["Cur_ParentID"]

    assert usd_on("2015-01-01") == (145, 145)
    assert usd_on("2021-07-08") == (145, 145)
    assert usd_on("2021-07-09") == (431, 145)


def test_catalogue_agrees_with_every_recording():
    records = catalogue()
    assert len({r["Cur_ID"] for r in records}) == len(records)
    for (cur_id, day), (code, scale, _rate) in recorded_rates().items():
        in_force = [r for r in records if r["Cur_Abbreviation"] == code
                    and r["Cur_DateStart"][:10] <= day <= r["Cur_DateEnd"][:10]]
        # Lists before 2015 show currencies under Cur_IDs the catalogue does not model.
        if day >= "2015-01-01" or in_force:
            assert [(r["Cur_ID"], r["Cur_Scale"]) for r in in_force] == [(cur_id, scale)], (code, day)


def test_recorded_rates_skip_the_derived_file():
    rates = recorded_rates()
    assert rates[431, "2024-01-05"] == ("USD", 1, "3.1980")
    assert rates[145, "2015-01-01"] == ("USD", 1, "11900.00")
    assert (451, "2024-01-21") not in rates  # only in sure_seed_eur_inverted_2024-01.csv


def test_synthetic_server_is_deterministic_and_covers_every_day():
    bodies = []
    for _ in range(2):
        with synthetic_server(codes=3, since="2026-03-01", until="2026-03-17") as server:
            bodies.append(get(server, "/exrates/rates?periodicity=0")[2])
            cur_id = json.loads(bodies[-1])[0]["Cur_ID"]
            rows = json.loads(get(server, f"/exrates/rates/dynamics/{cur_id}"
                                          "?startdate=2026-03-01&enddate=2026-03-17")[2])
    assert bodies[0] == bodies[1] and len(json.loads(bodies[0])) == 3
    assert len(rows) == 17
