"""`ticker bank-fetch` and `ticker bank` across the five banks: the real CLI, a real local fake of each
feed (Belarusbank's recorded answer, the four others built from shared/banks/FACTS.md), real SQLite.

Every best rate is worked out here from the bodies the fakes served, never from the parser.
"""

import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from click.testing import CliRunner
from support import minsk
from support.bank_feeds import (
    alfa_entries,
    belgazprombank_data,
    best_of,
    city_quotes,
    dabrabyt_data,
    five_banks,
    mtbank_data,
    serve,
    started_feeds,
)

from ticker import config as configuration
from ticker.cli import cli
from ticker.sources import BANKS
from ticker.sync.official import Sync

OFFICIAL_USD = Decimal("2.9463")  # NBRB's USD on 2026-03-17 (recorded)


def run(*args, code=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


@pytest.fixture
def feeds():
    servers = started_feeds()
    yield servers
    for server in servers.values():
        server.stop()


def _config(tmp_path, nbrb, bank, feeds, enabled=BANKS) -> str:
    path = five_banks(tmp_path, nbrb.url, bank, feeds, enabled)
    sync = Sync(configuration.load(path))
    sync.fetch([date(2026, 3, 17)])
    sync.store.close()
    return str(path)


@pytest.fixture
def fetched(tmp_path, nbrb, bank, feeds):
    """Every bank enabled, and `ticker bank-fetch` run once on 2026-03-17 at 12:00."""
    path = _config(tmp_path, nbrb, bank, feeds)
    with minsk("2026-03-17 12:00"):
        out = run("--config", path, "bank-fetch")
    assert [line.split(":")[0] for line in out.stdout.splitlines()] == [
        "Belarusbank", "MTBank", "Belgazprombank", "Alfa-Bank", "Dabrabyt"]
    assert out.stderr == ""
    return path


def pct(rate: Decimal, official: Decimal, scale: int = 1) -> str:
    value = (rate / scale - official) * 100 / official
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):+}"


def test_bank_gives_the_best_rate_in_the_city_across_banks_naming_bank_and_point(fetched):
    data = json.loads(run("--config", fetched, "bank", "USD", "--json").stdout)
    quotes = city_quotes()
    assert data["banks"] == ["belarusbank", "mtbank"]  # the banks whose feeds name Минск
    for side in ("buy", "sell"):
        rate, where = best_of(quotes, side)
        got = data[side]
        assert Decimal(got["rate"]) == rate and got["vs_official_pct"] == pct(rate, OFFICIAL_USD)
        assert sorted((p["bank"], p["point_id"]) for p in got["points"]) == where
        assert got["banks"] == sorted({b for b, _ in where})
        assert got["quoting"] == sum(1 for (_, _, s) in quotes if s == side)
    # The fakes' levels make the two sides two banks' (worked out above, checked here to keep it so).
    assert (data["buy"]["banks"], data["sell"]["banks"]) == (["mtbank"], ["belarusbank"])


def test_rates_tied_to_no_city_are_shown_apart_and_never_counted(fetched):
    data = json.loads(run("--config", fetched, "bank", "USD", "--json").stdout)
    apart = {e["bank"]: e for e in data["elsewhere"]}
    assert list(apart) == ["alfabank", "belgazprombank", "dabrabyt"]
    # Alfa-Bank: one entry for the whole bank (sellRate its buy, buyRate its sell: FACTS §2).
    [usd] = [e for e in alfa_entries() if (e["sellIso"], e["buyIso"]) == ("USD", "BYN")]
    alfa = apart["alfabank"]
    assert alfa["bank_wide"] is True and alfa["name"] == "Alfa-Bank"
    assert (Decimal(alfa["buy"]["rate"]), Decimal(alfa["sell"]["rate"])) == (usd["sellRate"], usd["buyRate"])
    assert alfa["buy"]["vs_official_pct"] == pct(usd["sellRate"], OFFICIAL_USD)
    # Belgazprombank: the tier from 0 (what a typical exchange gets), the best of its branches.
    tiers = {(b["name"], side): Decimal(tier[2 if side == "buy" else 3]) for b in belgazprombank_data()
             for r in b["rates"] if r["currency"] == "usd" for tier in r["tiers"] if tier[0] == "0"
             for side in ("buy", "sell")}
    # Dabrabyt: every branch's USD.
    dabrabyt = {(f["name"], side): Decimal(v[key]) for f in dabrabyt_data()["filials"] for v in f["values"]
                if v["iso"] == "USD" for side, key in (("buy", "buy"), ("sell", "sale"))}
    for bank, quoted in (("belgazprombank", tiers), ("dabrabyt", dabrabyt)):
        assert apart[bank]["bank_wide"] is False
        for side in ("buy", "sell"):
            values = [v for (_, s), v in quoted.items() if s == side]
            top = max(values) if side == "buy" else min(values)
            assert Decimal(apart[bank][side]["rate"]) == top
            assert sorted(p["point_id"] for p in apart[bank][side]["points"]) == sorted(
                name for (name, s), v in quoted.items() if s == side and v == top)
    # None of them is the city's best, though Alfa-Bank's buy beats every point of the city.
    assert usd["sellRate"] > best_of(city_quotes(), "buy")[0]
    assert data["buy"]["banks"] == ["mtbank"]


def test_the_table_names_each_best_rates_bank_and_point_and_the_rates_apart(fetched):
    lines = run("--config", fetched, "bank", "USD").stdout.splitlines()
    quotes = city_quotes()
    buy, where = best_of(quotes, "buy")
    # The first point by address is on the side's line, the others under it.
    office = min((d for d in mtbank_data()["departments"] if ("mtbank", d["id"]) in where), key=lambda d: d["address"])
    assert lines[0] == "USD in Минск: Belarusbank, MTBank, as of 2026-03-17 12:00 Minsk time (BYN per 1 USD)"
    row = next(line for line in lines if line.startswith("buy "))
    quoting = sum(1 for (_, _, side) in quotes if side == "buy")
    assert re.split(r" {2,}", row) == ["buy", str(buy), f"{pct(buy, OFFICIAL_USD)} %", f"{len(where)} of {quoting}",
                                       "MTBank", f"{office['address']}: {office['label']}"]
    apart = lines.index("Not counted in Минск: rates their feeds tie to no city")
    assert lines.index(row) < apart < next(n for n, line in enumerate(lines) if line.startswith("NBRB"))
    shown = lines[apart + 1:]
    wide = [line for line in shown if "Alfa-Bank" in line]
    assert len(wide) == 2 and all("bank-wide" in line for line in wide)
    assert any("Belgazprombank" in line and "ЦБУ №502 (the feed names no city)" in line for line in shown)
    # The bank column starts at one place on every line of the table.
    assert len({line.index(name) for line in lines for name in ("Belarusbank  ", "MTBank  ", "Alfa-Bank  ")
                if name in line and not line.startswith("USD")}) == 1


def test_bank_option_keeps_only_the_banks_named(fetched):
    data = json.loads(run("--config", fetched, "bank", "USD", "--json", "--bank", "belarusbank",
                          "--bank", "alfabank").stdout)
    only = {k: v for k, v in city_quotes().items() if k[0] == "belarusbank"}
    assert data["banks"] == ["belarusbank"]
    for side in ("buy", "sell"):
        assert Decimal(data[side]["rate"]) == best_of(only, side)[0] and data[side]["banks"] == ["belarusbank"]
    assert [e["bank"] for e in data["elsewhere"]] == ["alfabank"]


def test_a_bank_with_rates_tied_to_no_city_alone_shows_them_apart(fetched):
    lines = run("--config", fetched, "bank", "USD", "--bank", "alfabank").stdout.splitlines()
    assert lines[0].startswith("USD in Минск: no bank, as of ")
    assert [line.split()[:2] for line in lines if line.startswith(("buy", "sell"))][:2] == [
        ["buy", "none"], ["sell", "none"]]
    assert sum("Alfa-Bank" in line and "bank-wide" in line for line in lines) == 2


def test_a_city_no_bank_names_is_still_one_line(fetched):
    result = run("--config", fetched, "bank", "USD", "--city", "Minsk", code=1)
    assert result.stderr.startswith("Error: No data: no bank rates for the city 'Minsk' (cities are named as")
    assert result.stderr.count("\n") == 1


def test_an_unknown_bank_is_a_usage_error(fetched):
    result = run("--config", fetched, "bank", "USD", "--bank", "priorbank", code=2)
    assert result.stderr.startswith("Error: Invalid value for '--bank': 'priorbank' is not one of 'belarusbank',")
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_bank_fetch_polls_the_banks_named(tmp_path, nbrb, bank, feeds):
    path = _config(tmp_path, nbrb, bank, feeds, enabled=())
    with minsk("2026-03-17 12:00"):
        out = run("--config", path, "bank-fetch", "--bank", "mtbank", "--bank", "dabrabyt").stdout
    assert [line.split(":")[0] for line in out.splitlines()] == ["MTBank", "Dabrabyt"]
    assert bank.requests == [] and feeds["alfabank"].requests == []  # the others were not asked
    assert len(feeds["mtbank"].requests) == len(feeds["dabrabyt"].requests) == 1


def test_bank_fetch_without_an_enabled_bank_polls_belarusbank_as_before(tmp_path, nbrb, bank, feeds):
    path = _config(tmp_path, nbrb, bank, feeds, enabled=())
    with minsk("2026-03-17 12:00"):
        out = run("--config", path, "bank-fetch").stdout
    assert out.startswith("Belarusbank: 542 points, ") and out.count("\n") == 1


def test_bank_fetch_polls_only_the_enabled_banks(tmp_path, nbrb, bank, feeds):
    path = _config(tmp_path, nbrb, bank, feeds, enabled=("mtbank", "alfabank"))
    with minsk("2026-03-17 12:00"):
        out = run("--config", path, "bank-fetch").stdout
    assert [line.split(":")[0] for line in out.splitlines()] == ["MTBank", "Alfa-Bank"]


def test_a_failing_bank_is_one_line_and_the_others_are_still_polled(tmp_path, nbrb, bank, feeds):
    path = _config(tmp_path, nbrb, bank, feeds)
    serve(feeds["mtbank"], "mtbank", b"<html><body>503 Service Unavailable</body></html>", "text/html")
    with minsk("2026-03-17 12:00"):
        result = run("--config", path, "bank-fetch", code=1)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "Belarusbank", "Belgazprombank", "Alfa-Bank", "Dabrabyt"]
    [error] = result.stderr.splitlines()
    assert error.startswith("Error: MTBank sent a damaged response: ")
    # What was polled is stored: the city's best now comes from Belarusbank's answer alone.
    data = json.loads(run("--config", path, "bank", "USD", "--json").stdout)
    assert data["banks"] == ["belarusbank"]


def test_another_banks_text_reaches_the_terminal_and_json_escaped(tmp_path, nbrb, bank, feeds):
    from support.bank_feeds import mtbank_body

    data = mtbank_data()
    # XML forbids C0 controls but not a bidirectional override (nor C1 controls).
    data["departments"][0]["label"] = "Обменный пункт \x9b2J№10\u202e"
    serve(feeds["mtbank"], "mtbank", mtbank_body(data))
    path = _config(tmp_path, nbrb, bank, feeds, enabled=("mtbank",))
    with minsk("2026-03-17 12:00"):
        run("--config", path, "bank-fetch")
    text = run("--config", path, "bank", "USD").stdout
    assert "\x9b" not in text and "\u202e" not in text
    assert "Обменный пункт \\x9b2J№10\\u202e" in text
    out = run("--config", path, "bank", "USD", "--json").stdout
    assert "\u202e" not in out and "\x9b" not in out
    labels = {p["label"] for p in json.loads(out)["buy"]["points"]}
    assert data["departments"][0]["label"] in labels  # escaped on the terminal, the same text once parsed
