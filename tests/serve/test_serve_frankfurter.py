"""Frankfurter's v1 and v2 APIs from a real `ticker serve` over the recorded database: NBRB's values,
Frankfurter's shapes, statuses and error bodies, each answer validated by openapi-core against
Frankfurter's own OpenAPI documents (../shared/frankfurter, read in place) for its path and status."""

import csv
import io
import json
import sqlite3
from decimal import ROUND_HALF_UP, Decimal

import httpx
import jsonschema
import pytest
from support.serving import Validator, frankfurter_document, serving

TODAY = "2026-03-17"


@pytest.fixture(scope="module")
def served(tmp_path_factory, recorded_db):
    with serving(tmp_path_factory.mktemp("serve"), recorded_db) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


@pytest.fixture(scope="module")
def codes(recorded_db):
    conn = sqlite3.connect(recorded_db)
    return sorted({c for (c,) in conn.execute("SELECT DISTINCT code FROM rates")} | {"BYN"})


@pytest.fixture(scope="module")
def v1(codes):
    return Validator(frankfurter_document("v1", codes), "/v1")


@pytest.fixture(scope="module")
def v2():
    return Validator(frankfurter_document("v2"), "/v2")


def byn(db, code: str, day: str) -> Decimal:
    """BYN per one unit of `code` on `day`, read from the database with sqlite3, as published."""
    if code == "BYN":
        return Decimal(1)
    scale, text, unit = sqlite3.connect(db).execute(
        "SELECT scale, rate_text, unit FROM rates WHERE code = ? AND date = ?", [code, day]).fetchone()
    return Decimal(text) / scale / {"BYN": 1, "BYR": 10_000}[unit]


def rounded(value: Decimal):
    """Frankfurter's rounding: whole above 5000, then 2, 3, 4, 5 decimals above 80, 20, 1, 0.0001, else 6."""
    for bound, places in ((80, 2), (20, 3), (1, 4), (Decimal("0.0001"), 5)):
        if value > 5000:
            return int(value.quantize(Decimal(1), ROUND_HALF_UP))
        if value > bound:
            return float(value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
    return float(value.quantize(Decimal("0.000001"), ROUND_HALF_UP))


def get(client, validator, path, template, status=200, **params):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    if status == 422 and validator.base == "/v1":
        # Frankfurter's v1 server answers 422 (its error handler) but its v1 document lists none:
        # the body is the 422 its v2 document describes.
        schema = frankfurter_document("v2")["components"]["responses"]["UnprocessableEntity"]
        jsonschema.validate(response.json(), schema["content"]["application/json"]["schema"])
    else:
        validator.check(response, template)
    assert "Traceback" not in response.text and "SELECT" not in response.text
    return response


# -- v1 ---------------------------------------------------------------------------------------


def test_v1_a_day_from_usd_to_byn_is_nbrbs_rate(served, v1):
    response = get(served, v1, "/v1/2024-01-10", "/{date}", **{"from": "USD", "to": "BYN"})
    assert response.content == b'{"amount":1.0,"base":"USD","date":"2024-01-10","rates":{"BYN":3.1949}}'
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    # The aliases of from and to, as Frankfurter's.
    assert get(served, v1, "/v1/2024-01-10", "/{date}", base="USD", symbols="BYN").content == response.content


def test_v1_the_default_base_is_eur_and_crosses_go_through_byn_exactly(served, v1, recorded_db):
    body = get(served, v1, "/v1/2024-01-10", "/{date}").json()
    eur = byn(recorded_db, "EUR", "2024-01-10")
    assert body["base"] == "EUR" and body["amount"] == 1.0 and "EUR" not in body["rates"]
    assert body["rates"] == {code: rounded(eur / byn(recorded_db, code, "2024-01-10")) for code in ("BYN", "GBP", "USD")}
    assert body["rates"]["USD"] == 1.0944 and body["rates"]["BYN"] == 3.4965
    hundred = get(served, v1, "/v1/2024-01-10", "/{date}", amount="100", **{"from": "USD", "to": "EUR"}).json()
    assert hundred == {"amount": 100.0, "base": "USD", "date": "2024-01-10", "rates": {"EUR": 91.37}}


def test_v1_latest_is_today_in_minsk(served, v1, recorded_db):
    body = get(served, v1, "/v1/latest", "/latest", symbols="USD,EUR,RUB").json()
    eur = byn(recorded_db, "EUR", TODAY)
    assert body["date"] == TODAY
    assert body["rates"] == {"RUB": rounded(eur / byn(recorded_db, "RUB", TODAY)),
                             "USD": rounded(eur / byn(recorded_db, "USD", TODAY))}
    assert body["rates"]["RUB"] == 91.91  # 3.3741 BYN per EUR / (3.6709 BYN per 100 RUB)


def test_v1_weekends_are_nbrbs_own_days_and_old_roubles_are_converted(served, v1, recorded_db):
    saturday = get(served, v1, "/v1/2026-03-14", "/{date}", **{"from": "USD", "to": "BYN"}).json()
    assert saturday["date"] == "2026-03-14" and saturday["rates"]["BYN"] == float(byn(recorded_db, "USD", "2026-03-14"))
    # 2015: NBRB quoted 11900.00 BYR per USD, 1.19 of today's roubles.
    assert get(served, v1, "/v1/2015-01-01", "/{date}", **{"from": "USD", "to": "BYN"}).json()["rates"] == {"BYN": 1.19}


def test_v1_a_day_not_stored_answers_with_the_last_day_before_it_as_frankfurter(served, v1):
    later = get(served, v1, "/v1/2026-03-20", "/{date}", **{"from": "USD", "to": "BYN"}).json()
    assert later["date"] == TODAY
    get(served, v1, "/v1/2026-04-20", "/{date}", 404, **{"from": "USD", "to": "BYN"})


def test_v1_a_range_has_every_day_stored(served, v1, recorded_db):
    body = get(served, v1, "/v1/2024-01-01..2024-01-05", "/{start_date}..{end_date}",
               **{"from": "USD", "to": "BYN"}).json()
    assert body["start_date"] == "2024-01-01" and body["end_date"] == "2024-01-05" and body["base"] == "USD"
    assert body["rates"] == {f"2024-01-0{d}": {"BYN": float(byn(recorded_db, "USD", f"2024-01-0{d}"))} for d in range(1, 6)}
    open_ended = get(served, v1, "/v1/2026-03-15..", "/{start_date}..", symbols="USD").json()
    assert list(open_ended["rates"]) == ["2026-03-15", "2026-03-16", TODAY] and open_ended["end_date"] == TODAY


@pytest.mark.parametrize("path, params, status, message", [
    ("/v1/2024-01-10", {"from": "XYZ", "to": "BYN"}, 404, "not found"),
    ("/v1/2024-01-10", {"from": "USD", "to": "XYZ"}, 404, "not found"),
    ("/v1/2024-02-30", {}, 422, "invalid date"),
    ("/v1/latest", {"amount": "0"}, 422, "invalid amount"),
    ("/v1/latest", {"amount": "-5"}, 422, "invalid amount"),
    ("/v1/latest", {"amount": "ten"}, 422, "invalid amount"),
    ("/v1/latest", {"from": "usd", "to": "USD"}, 422, "bad currency pair"),
    ("/v1/2024-01-05..2024-01-01", {}, 404, "not found"),
    ("/v1/1990-01-01..2024-01-01", {}, 422, "date range exceeds 3660 days; split it into shorter requests"),
    ("/v1/2030-01-01..", {}, 404, "not found"),
    ("/v1/yesterday", {}, 404, "not found"),
])
def test_v1_bad_input_gets_frankfurters_error(served, v1, path, params, status, message):
    template = "/{start_date}..{end_date}" if ".." in path else "/{date}" if path[4:5].isdigit() else "/latest"
    response = get(served, v1, path, template, status, **params)
    assert response.json() == {"message": message}
    assert response.headers["cache-control"] == "no-store"


def test_v1_currencies_name_nbrbs_currencies_and_byn(served, v1):
    body = get(served, v1, "/v1/currencies", "/currencies").json()
    assert body["BYN"] == "Belarusian Ruble" and body["USD"] == "US Dollar" and body["RUB"] == "Russian Ruble"
    assert list(body) == sorted(body) and len(body) == 31  # the 30 currencies quoted on 2026-03-17, and BYN


# -- v2 ---------------------------------------------------------------------------------------


def test_v2_rates_of_a_day_are_records_with_the_identity_of_the_base(served, v2, recorded_db):
    records = get(served, v2, "/v2/rates", "/rates", base="USD", date="2024-01-10").json()
    assert records == [
        {"date": "2024-01-10", "base": "USD", "quote": "BYN", "rate": 3.1949},
        {"date": "2024-01-10", "base": "USD", "quote": "EUR",
         "rate": rounded(byn(recorded_db, "USD", "2024-01-10") / byn(recorded_db, "EUR", "2024-01-10"))},
        {"date": "2024-01-10", "base": "USD", "quote": "GBP",
         "rate": rounded(byn(recorded_db, "USD", "2024-01-10") / byn(recorded_db, "GBP", "2024-01-10"))},
        {"date": "2024-01-10", "base": "USD", "quote": "USD", "rate": 1.0},
    ]
    latest = get(served, v2, "/v2/rates", "/rates", quotes="USD,BYN").json()
    assert latest == [{"date": TODAY, "base": "EUR", "quote": "BYN", "rate": float(byn(recorded_db, "EUR", TODAY))},
                      {"date": TODAY, "base": "EUR", "quote": "USD",
                       "rate": rounded(byn(recorded_db, "EUR", TODAY) / byn(recorded_db, "USD", TODAY))}]


def test_v2_a_range_as_json_csv_and_ndjson_says_the_same(served, v2):
    params = {"base": "USD", "quotes": "BYN,EUR", "from": "2026-03-13", "to": TODAY}
    records = get(served, v2, "/v2/rates", "/rates", **params).json()
    assert [(r["date"], r["quote"]) for r in records] == [(f"2026-03-{d}", q) for d in range(13, 18) for q in ("BYN", "EUR")]
    ndjson = served.get("/v2/rates", params=params, headers={"accept": "application/x-ndjson"})
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    schema = frankfurter_document("v2")["components"]["schemas"]["Rate"]
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    for line in lines:
        jsonschema.validate(line, schema)
    assert lines == records
    table = served.get("/v2/rates", params=params, headers={"accept": "text/csv"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["date"], r["base"], r["quote"], float(r["rate"])) for r in rows] == \
        [(r["date"], r["base"], r["quote"], r["rate"]) for r in records]
    assert "accept" in table.headers["vary"].lower()


def test_v2_rate_of_one_pair(served, v2):
    assert get(served, v2, "/v2/rate/USD/BYN", "/rate/{base}/{quote}", date="2024-01-10").json() == \
        {"date": "2024-01-10", "base": "USD", "quote": "BYN", "rate": 3.1949}
    assert get(served, v2, "/v2/rate/usd/usd", "/rate/{base}/{quote}").json() == \
        {"date": TODAY, "base": "USD", "quote": "USD", "rate": 1.0}
    # KRW is in NBRB's catalogue (its monthly list) but this database has no KRW rate.
    assert get(served, v2, "/v2/rate/USD/KRW", "/rate/{base}/{quote}", 404).json() == {"status": 404, "message": "not found"}


@pytest.mark.parametrize("params, message", [
    ({"foo": "1"}, "unknown parameter: foo"),
    ({"date": "2024-13-01"}, "invalid date"),
    ({"date": "2024-01-10", "from": "2024-01-01"}, "conflicting params"),
    ({"group": "year"}, "invalid group"),
    ({"group": "week", "from": "2024-01-01"}, "group=week is not served: ticker gives NBRB's rates as published, "
                                               "every day; ask for the range without group"),
    ({"expand": "sources"}, "invalid expand: sources"),
    ({"base": "XYZ"}, "invalid currency: XYZ"),
    ({"quotes": "USD,QQQ"}, "invalid currency: QQQ"),
    ({"from": "2024-01-05", "to": "2024-01-01"}, "from 2024-01-05 is after to 2024-01-01"),
    ({"from": "1990-01-01", "to": "2024-01-01"}, "date range exceeds 3660 days; split the range into shorter requests"),
])
def test_v2_bad_input_gets_frankfurters_422(served, v2, params, message):
    response = get(served, v2, "/v2/rates", "/rates", 422, **params)
    assert response.json() == {"status": 422, "message": message}


def test_v2_expand_providers_names_nbrbs_observation(served, v2):
    records = get(served, v2, "/v2/rates", "/rates", base="USD", quotes="BYN", date="2024-01-10",
                  expand="providers").json()
    assert records == [{"date": "2024-01-10", "base": "USD", "quote": "BYN", "rate": 3.1949,
                        "providers": [{"key": "NBRB", "date": "2024-01-10", "rate": 3.1949}]}]
    assert get(served, v2, "/v2/rates", "/rates", providers="ECB").json() == []


def test_v2_currencies_and_providers(served, v2, codes):
    currencies = get(served, v2, "/v2/currencies", "/currencies").json()
    usd = next(c for c in currencies if c["iso_code"] == "USD")
    assert usd == {"iso_code": "USD", "iso_numeric": "840", "name": "US Dollar", "symbol": None,
                   "start_date": "2015-01-01", "end_date": TODAY}
    assert "BGN" not in [c["iso_code"] for c in currencies]  # ended: its last rate is of 2015 here
    everything = get(served, v2, "/v2/currencies", "/currencies", scope="all").json()
    assert [c["iso_code"] for c in everything] == codes
    (nbrb,) = get(served, v2, "/v2/providers", "/providers").json()
    assert nbrb["key"] == "NBRB" and nbrb["pivot_currency"] == "BYN" and nbrb["end_date"] == TODAY
    assert nbrb["publishes_missed"] == 0 and nbrb["currencies"] == [c for c in codes if c != "BYN"]
    detail = get(served, v2, "/v2/currency/USD", "/currency/{code}").json()
    assert detail["name"] == "US Dollar" and detail["providers"] == ["NBRB"]
    get(served, v2, "/v2/currency/XYZ", "/currency/{code}", 404)


def test_v2_unknown_paths_answer_frankfurters_404(served):
    response = served.get("/v2/nothing")
    assert response.status_code == 404 and response.json() == {"status": 404, "message": "not found"}


# -- a monthly currency -----------------------------------------------------------------------


def test_a_monthly_currency_answers_with_its_rate_in_force(tmp_path, monthly_db):
    conn = sqlite3.connect(monthly_db)
    scale, text = conn.execute("SELECT scale, rate_text FROM rates WHERE code = 'KRW' AND date = '2026-03-01'"
                               " AND periodicity = 1").fetchone()
    with serving(tmp_path, monthly_db) as server:
        body = httpx.get(f"{server.url}/v1/2026-03-17", params={"from": "KRW", "to": "BYN,USD"}, timeout=30).json()
        usd = Decimal(conn.execute("SELECT rate_text FROM rates WHERE code = 'USD' AND date = '2026-03-17'").fetchone()[0])
        krw = Decimal(text) / scale
        assert body == {"amount": 1.0, "base": "KRW", "date": "2026-03-17",
                        "rates": {"BYN": rounded(krw), "USD": rounded(krw / usd)}}
        records = httpx.get(f"{server.url}/v2/rates", params={"base": "BYN", "quotes": "KRW", "from": "2026-03-01",
                                                               "to": "2026-03-03"}, timeout=30).json()
        assert [(r["date"], r["rate"]) for r in records] == [(f"2026-03-0{d}", rounded(1 / krw)) for d in (1, 2, 3)]
