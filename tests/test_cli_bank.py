"""`ticker bank-fetch` and `ticker bank` through the real CLI, real local servers and real SQLite files."""

import json
import subprocess
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.banks import answer, bank_section, nonzero, recorded_points

from ticker import config as configuration
from ticker.cli import cli
from ticker.sync.official import Sync


def run(*args, code=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


@pytest.fixture
def config(tmp_path, nbrb, bank):
    """A config for both local servers, and NBRB's official rates of 2026-03-17 stored."""
    path = write_config(tmp_path, nbrb.url, track={"currencies": '["*"]'}, belarusbank=bank_section(bank))
    sync = Sync(configuration.load(path))
    sync.fetch([date(2026, 3, 17)])
    sync.store.close()
    return str(path)


@pytest.fixture
def fetched(config):
    with minsk("2026-03-17 12:00"):
        out = run("--config", config, "bank-fetch")
    count = sum(len(nonzero(p)) for p in recorded_points())
    assert out.stdout == f"Belarusbank: 542 points, {count} rates stored: {count} new or changed, 0 no longer quoted\n"
    assert out.stderr == ""
    return config


def pct(rate: str, official: str) -> str:
    value = (Decimal(rate) - Decimal(official)) * 100 / Decimal(official)
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):+}"


def test_bank_shows_the_best_usd_rates_in_minsk_where_and_the_official_rate(fetched):
    out = run("--config", fetched, "bank", "USD").stdout
    buy, sell, official = "2.0550", "2.0680", "2.9463"
    assert pct(buy, official) == "-30.25" and pct(sell, official) == "-29.81"
    assert out == (
        "USD in Минск: Belarusbank, as of 2026-03-17 12:00 Minsk time (BYN per 1 USD)\n"
        "side  rate    vs NBRB   points    bank         where\n"
        f"buy   {buy}  -30.25 %  2 of 165  Belarusbank  пр. Дзержинского 18: Головной офис 795, Пн-Пт 09:00-19:00\n"
        "                                  Belarusbank  ул. Мясникова 32: Отделение 795/413, Пн-Пт 09:00-19:00,"
        " Сб 09:00-15:00\n"
        f"sell  {sell}  -29.81 %  2 of 165  Belarusbank  пр. Дзержинского 18: Головной офис 795, Пн-Пт 09:00-19:00\n"
        "                                  Belarusbank  ул. Мясникова 32: Отделение 795/413, Пн-Пт 09:00-19:00,"
        " Сб 09:00-15:00\n"
        f"NBRB  {official}                                   the official rate in force on 2026-03-17\n"
        "buy: the bank buys USD from you (the highest rate is best); sell: it sells you USD (the lowest is best).\n")


def test_bank_json_lists_every_point_at_the_best_rate(fetched):
    data = json.loads(run("--config", fetched, "bank", "rub", "--city", "МИНСК", "--json").stdout)
    minsk_rub = [p for p in recorded_points() if p["name"] == "Минск" and Decimal(p["RUB_in"])]
    best_buy = max(Decimal(p["RUB_in"]) for p in minsk_rub)
    best_sell = min(Decimal(p["RUB_out"]) for p in minsk_rub)
    assert (data["code"], data["city"], data["unit"], data["as_of"]) == ("RUB", "Минск", "BYN", "2026-03-17T09:00:00Z")
    assert data["official"] == {"date": "2026-03-17", "rate": "3.6709", "scale": 100, "cur_id": 456}
    assert (data["buy"]["rate"], data["buy"]["scale"], data["buy"]["quoting"]) == (str(best_buy), 100, len(minsk_rub))
    assert data["buy"]["vs_official_pct"] == pct(str(best_buy), "3.6709")
    assert data["sell"]["rate"] == str(best_sell) and data["sell"]["vs_official_pct"] == pct(str(best_sell), "3.6709")
    for side, best, key in (("buy", best_buy, "RUB_in"), ("sell", best_sell, "RUB_out")):
        at_best = sorted(p["filial_id"] for p in minsk_rub if Decimal(p[key]) == best)
        assert sorted(p["point_id"] for p in data[side]["points"]) == at_best
    assert len(data["sell"]["points"]) == 13
    point = next(p for p in data["buy"]["points"] if p["point_id"] == "1433")
    assert point == {"bank": "belarusbank", "point_id": "1433", "label": "Головной офис 795",
                     "address": "пр. Дзержинского 18", "hours": "Пн-Пт 09:00-19:00", "effective_at": None,
                     "since": "2026-03-17T09:00:00Z"}


@pytest.mark.parametrize("args, message", [
    (["bank", "USD", "--city", "Minsk"],
     "Error: No data: no bank rates for the city 'Minsk' (cities are named as the bank writes them: Минск, "),
    (["bank", "NOK"], "Error: No data: no bank rates for NOK in Минск (quoted there now: CAD, CHF, CNY, CZK, EUR, GBP,"
                      " JPY, PLN, RUB, SEK, UAH, USD)"),
])
def test_bank_with_an_unknown_city_or_currency_is_one_line(fetched, args, message):
    result = run("--config", fetched, *args, code=1)
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_bank_before_any_bank_answer_says_what_to_run(config):
    result = run("--config", config, "bank", "USD", code=1)
    assert result.stderr == ("Error: No data: no bank rates in the database; run `ticker bank-fetch`, or enable"
                             " a bank's section ([belarusbank], [mtbank], [belgazprombank], [alfabank], [dabrabyt])"
                             " for `ticker run`\n")


def test_bank_without_the_official_rate_says_so(tmp_path, nbrb, bank):
    path = str(write_config(tmp_path, nbrb.url, belarusbank=bank_section(bank)))
    with minsk("2019-09-29 20:00"):
        run("--config", path, "bank-fetch")
    out = run("--config", path, "bank", "USD").stdout.splitlines()
    assert out[2].startswith("buy   2.0550  n/a")
    assert " ".join(out[-3].split()) == ("NBRB none no official USD rate for 2019-09-29 in the database; run"
                                         " `ticker fetch --date 2019-09-29`")
    assert out[-1] == "Scale unchecked: there was no official rate in the database to check it against."


def test_bank_fetch_from_a_server_answering_html_is_one_line_and_stores_nothing(fetched, bank):
    answer(bank, b"<html><head><title>403 Forbidden</title></head></html>", "text/html")
    with minsk("2026-03-17 12:30"):
        result = run("--config", fetched, "bank-fetch", code=1)
    assert result.stderr.startswith("Error: Belarusbank sent a damaged response: http://127.0.0.1:")
    assert result.stderr.endswith("/api/kursExchange: expected JSON, got text/html: <html><head><title>403 Forbidden"
                                  "</title></head></html>, still after 1 retry; set belarusbank.base_url in the"
                                  " config to use a mirror or proxy\n")
    assert result.stdout == ""
    assert "2.0550" in run("--config", fetched, "bank", "USD").stdout  # the last good answer stands


def test_bank_fetch_warns_of_each_refused_point_and_stores_the_rest(fetched, bank):
    points = recorded_points()
    points[5]["EUR_out"] = "NaN"
    answer(bank, points)
    with minsk("2026-03-17 12:30"):
        result = run("--config", fetched, "bank-fetch")
    assert result.stderr == (f"Warning: Belarusbank: refused point {points[5]['filial_id']} ({points[5]['name']},"
                             f" {points[5]['filials_text']}): EUR_out is 'NaN', not a rate\n")
    assert result.stdout.startswith("Belarusbank: 541 points, ")
    assert result.stdout.endswith(f" 0 new or changed, {len(nonzero(recorded_points()[5]))} no longer quoted\n")


def test_bank_fetch_when_the_bank_cannot_be_reached(tmp_path, nbrb):
    path = str(write_config(tmp_path, nbrb.url, belarusbank={"base_url": '"http://127.0.0.1:9"', "retries": "0"}))
    result = run("--config", path, "bank-fetch", code=1)
    assert result.stderr == ("Error: Could not reach Belarusbank: http://127.0.0.1:9/api/kursExchange: Connection"
                             " refused; set belarusbank.base_url in the config to use a mirror or proxy\n")


def test_bank_answers_from_a_fresh_process(fetched):
    """The real program, as a person runs it: no traceback, Cyrillic on stdout."""
    ticker = str(Path(sys.executable).with_name("ticker"))
    out = subprocess.run([ticker, "--config", fetched, "bank", "EUR", "--city", "брест"], capture_output=True,
                         text=True, timeout=30)
    brest = [p for p in recorded_points() if p["name"] == "Брест" and Decimal(p["EUR_in"])]
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("EUR in Брест: Belarusbank, as of ")
    assert f"buy   {max(Decimal(p['EUR_in']) for p in brest)}" in out.stdout


def test_bank_without_a_database_says_what_to_run(tmp_path):
    result = run("--db", str(tmp_path / "none.sqlite"), "bank", "USD", code=1)
    assert result.stderr == f"Error: No data: no database at {tmp_path / 'none.sqlite'}; run `ticker bank-fetch` first\n"
    assert list(tmp_path.iterdir()) == []
