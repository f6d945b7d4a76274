"""The native API of a real `ticker serve`: the same exact values as the command line gives, each
answer validated by openapi-core against /openapi.json, itself checked by openapi-spec-validator."""

import json
import subprocess
import sys

import httpx
import pytest
from openapi_spec_validator import validate
from support.serving import PINNED, Validator, serving

NOW = "2026-03-17T10:00"


@pytest.fixture(scope="module")
def server(tmp_path_factory, recorded_db):
    with serving(tmp_path_factory.mktemp("native"), recorded_db, now=NOW) as served:
        yield served


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def ours(client):
    document = client.get("/openapi.json").json()
    validate(document)  # a valid OpenAPI 3.1 document
    return Validator(document, "")


def cli(server, *args) -> str:
    """The real `ticker` command line on the server's config, with the same "now"."""
    done = subprocess.run([sys.executable, str(PINNED), NOW, "--config", str(server.config), *args],
                          capture_output=True, text=True, timeout=60)
    return done.stdout


def get(client, validator, path, status=200, template=None, **params):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    validator.check(response, template or "/api/rates/{which}")
    assert "Traceback" not in response.text
    return response


def test_a_days_rates_as_published_with_the_change_against_the_previous_distinct_rate(server, client, ours):
    body = get(client, ours, "/api/rates/2026-03-17").json()
    assert body["date"] == "2026-03-17" and body["source"] == "NBRB" and len(body["rates"]) == 30
    usd = next(r for r in body["rates"] if r["code"] == "USD")
    assert usd | {"previous": None} == {
        "code": "USD", "date": "2026-03-17", "scale": 1, "rate": "2.9463", "unit": "BYN", "cur_id": 431,
        "periodicity": 0, "byn_per_unit": "2.9463", "name": "US Dollar", "set_monthly": False, "previous": None,
        "change": usd["change"], "change_pct": usd["change_pct"], "direction": usd["direction"]}
    # The same change as `ticker line --json`, which compares with the previous distinct rate too.
    line = json.loads(cli(server, "line", "--json"))
    for currency in line["currencies"]:
        rate = next(r for r in body["rates"] if r["code"] == currency["code"])
        assert (rate["rate"], rate["previous"], rate["change"], rate["change_pct"], rate["direction"]) == \
            (currency["rate"], currency["previous"], currency["change"], currency["change_pct"], currency["direction"])
    rub = next(r for r in body["rates"] if r["code"] == "RUB")
    assert (rub["scale"], rub["rate"], rub["byn_per_unit"]) == (100, "3.6709", "0.036709")
    assert get(client, ours, "/api/rates/today").json() == body


def test_old_roubles_are_kept_as_published(client, ours):
    usd = next(r for r in get(client, ours, "/api/rates/2015-01-01").json()["rates"] if r["code"] == "USD")
    assert (usd["rate"], usd["unit"], usd["byn_per_unit"]) == ("11900.00", "BYR", "1.19")


def test_a_day_not_published_says_so(client, ours):
    response = get(client, ours, "/api/rates/tomorrow", 404)
    assert response.json()["message"].startswith("the rates for 2026-03-18 are not published yet")
    assert get(client, ours, "/api/rates/2024-02-30", 422).json() == {
        "message": "'2024-02-30' is not a date like 2024-01-10, today, tomorrow or yesterday"}


def test_a_series_as_json_and_ndjson(server, client, ours):
    rows = get(client, ours, "/api/rates/USD", **{"from": "2024-01-01", "to": "2024-01-31"}).json()
    assert len(rows) == 31 and rows[9] == {"date": "2024-01-10", "code": "USD", "scale": 1, "rate": "3.1949",
                                           "unit": "BYN", "cur_id": 431, "periodicity": 0}
    exported = json.loads(cli(server, "export", "--format", "json", "--currency", "USD", "--since", "2024-01-01",
                              "--until", "2024-01-31"))
    assert [(r["date"], r["rate"]) for r in rows] == [(r["date"], r["rate"]) for r in exported]
    lines = client.get("/api/rates/usd", params={"from": "2024-01-01", "to": "2024-01-31"},
                       headers={"accept": "application/x-ndjson"})
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in lines.text.splitlines()] == rows
    assert get(client, ours, "/api/rates/XYZ", 404).json()["message"].startswith("no XYZ rates in the database")
    assert get(client, ours, "/api/rates/USD", 422, **{"from": "2024-02-01", "to": "2024-01-01"}).json() == {
        "message": "from 2024-02-01 is after to 2024-01-01"}


def test_convert_gives_the_exact_amount_and_the_rates_used(server, client, ours):
    body = get(client, ours, "/api/convert", template="/api/convert", amount="100", to="EUR", date="2024-01-10",
               **{"from": "USD"}).json()
    assert body["rounded"] == "91.37" and body["value"].startswith("91.37423137423137")
    assert [(r["code"], r["rate"]) for r in body["rates"]] == [("USD", "3.1949"), ("EUR", "3.4965")]
    assert body["text"] == cli(server, "convert", "100", "USD", "EUR", "--date", "2024-01-10").strip()
    huge = get(client, ours, "/api/convert", template="/api/convert", amount="1e26", **{"from": "USD"}).json()
    assert huge["rounded"] == "294630000000000000000000000.00"
    assert get(client, ours, "/api/convert", 422, "/api/convert", amount="ten", **{"from": "USD"}).json()["message"] \
        .startswith("amount: ")
    assert get(client, ours, "/api/convert", 404, "/api/convert", amount="1", **{"from": "XYZ"}).json()["message"] \
        .startswith("no XYZ rates in the database")


def test_status_is_ticker_status_and_503_when_stale(server, client, ours):
    response = get(client, ours, "/api/status", 503, "/api/status")
    report = json.loads(cli(server, "status", "--json"))
    assert response.json() == report and report["verdict"].startswith("stale: ")
    assert response.headers["cache-control"] == "no-store"


def test_status_is_200_when_up_to_date(tmp_path, recorded_db):
    # The recorded database holds every day of 2026-03-01..17: complete since then.
    with serving(tmp_path, recorded_db, now=NOW, track={"currencies": '["USD", "EUR"]', "since": "2026-03-01"}) as served:
        response = httpx.get(f"{served.url}/api/status", timeout=30)
    assert response.status_code == 200
    assert response.json()["verdict"] == "up to date: 2 currencies through 2026-03-17"


def test_banks_are_ticker_bank_json(tmp_path, bank_db):
    with serving(tmp_path, bank_db, now=NOW) as served:
        response = httpx.get(f"{served.url}/api/banks/usd", timeout=30)
        other = httpx.get(f"{served.url}/api/banks/USD", params={"city": "Атлантида"}, timeout=30)
        document = httpx.get(f"{served.url}/openapi.json", timeout=30).json()
        expected = cli(served, "bank", "USD", "--json")
    assert response.status_code == 200 and response.json() == json.loads(expected)
    assert response.json()["buy"]["rate"] == "2.0550" and response.json()["city"] == "Минск"
    Validator(document, "").check(response, "/api/banks/{code}")
    assert other.status_code == 404 and other.json()["message"].startswith("no bank rates for the city 'Атлантида'")
