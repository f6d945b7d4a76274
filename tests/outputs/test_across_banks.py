"""The outputs that show a city's best bank rates, across the five banks: the page, the ticker files,
the band chart, `ticker export --bank` and the alerts on a city's best rate. Real local fakes of every
feed, real polls, a real SQLite file; each best rate worked out here from the fakes' bodies."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from support import minsk
from support.bank_feeds import best_of, city_quotes, five_banks, mtbank_body, mtbank_data, serve, started_feeds
from support.banks import bank_server
from support.nbrb_data import recorded_server

from ticker import config as configuration
from ticker.cli import cli
from ticker.store import reader
from ticker.sync import banks as bank_sync
from ticker.sync.official import Sync

DAY = date(2026, 3, 17)


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    """Official rates of 2026-03-01..17, and each of the five banks polled once on the 17th at 12:00."""
    folder = tmp_path_factory.mktemp("five")
    feeds = started_feeds()
    try:
        with recorded_server(today="2026-03-17") as nbrb, bank_server() as bank:
            path = five_banks(folder, nbrb.url, bank, feeds, banks={"show": '["page", "ticker", "charts"]'},
                              charts={"currencies": '["USD"]', "windows": "[7]"}, line={"currencies": '["USD"]'})
            config = configuration.load(path)
            sync = Sync(config)
            sync.backfill(date(2026, 3, 1), DAY)
            sync.store.close()
            with minsk("2026-03-17 12:00"):
                for bank_id in configuration.enabled_banks(config):
                    bank_sync.poll(config, bank_id)
    finally:
        for server in feeds.values():
            server.stop()
    return path


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def test_export_bank_names_the_bank_of_each_best_rate(polled):
    buy, buy_at = best_of(city_quotes(), "buy")
    sell, sell_at = best_of(city_quotes(), "sell")
    rows = list(csv.DictReader(io.StringIO(run("--config", str(polled), "export", "--bank", "--city", "Минск",
                                               "--currency", "USD"))))
    assert rows == [{"date": "2026-03-17", "city": "Минск", "code": "USD", "scale": "1", "buy": str(buy),
                     "sell": str(sell), "buy_byn_per_unit": str(buy), "sell_byn_per_unit": str(sell),
                     "buy_bank": ",".join(sorted({b for b, _ in buy_at})),
                     "sell_bank": ",".join(sorted({b for b, _ in sell_at}))}]
    assert (rows[0]["buy_bank"], rows[0]["sell_bank"]) == ("mtbank", "belarusbank")  # two banks' sides
    # A Russian-locale spreadsheet: decimal commas in the rates only, the banks as they are.
    sheet = run("--config", str(polled), "export", "--bank", "--city", "Минск", "--currency", "USD",
                "--format", "spreadsheet")
    assert sheet.splitlines()[1].split(";")[4:] == [str(buy).replace(".", ","), str(sell).replace(".", ","),
                                                   str(buy).replace(".", ","), str(sell).replace(".", ","),
                                                   "mtbank", "belarusbank"]


def test_ticker_files_and_the_page_name_the_banks_of_the_best_rates(polled, tmp_path):
    buy, _ = best_of(city_quotes(), "buy")
    sell, _ = best_of(city_quotes(), "sell")
    with minsk("2026-03-17 18:00"):
        data = json.loads(run("--config", str(polled), "line", "--json"))
        run("--config", str(polled), "chart", "--out", str(tmp_path))
    [usd] = data["currencies"]
    assert {k: usd["bank"][k] for k in ("buy", "sell", "buy_banks", "sell_banks")} == {
        "buy": str(buy), "sell": str(sell), "buy_banks": ["mtbank"], "sell_banks": ["belarusbank"]}
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert ("Buy and Sell: the best rates in Минск across Belarusbank, MTBank, each with the bank offering it"
            " under it, as of 12:00 Minsk time") in page
    [row] = [r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", page) if "USD" in r and "bank" in r]
    assert (f'<td class="num bank">{buy} <span class="set">MTBank</span></td>'
            f'<td class="num bank">{sell} <span class="set">Belarusbank</span></td>') in row


def test_the_band_chart_names_the_banks_it_draws(polled):
    from ticker.outputs import charts

    conn = reader.connect(configuration.load(polled).database.path)
    [job] = [job for job in charts.plan(conn, DAY, ["USD"], [7], ["USD"], "Минск") if job[0] == "usd-7-bank.png"]
    fig = job[2]()
    texts = [t.get_text() for t in fig.texts]
    # Only Belarusbank and MTBank name cities: the other three are never a city's best.
    assert "Sources: NBRB, Belarusbank, MTBank (each day's last rates) · as of 2026-03-17" in texts


def test_a_bank_alert_fires_on_the_citys_best_across_banks_and_names_the_bank_and_point(tmp_path, nbrb, bank):
    from ticker.alerts import firing

    feeds = started_feeds()
    try:
        path = five_banks(tmp_path, nbrb.url, bank, feeds, alerts=[
            {"currency": '"USD"', "bank": '"buy"', "above": "2.93", "notify": '["json://127.0.0.1:9/buy"]'}])
        config = configuration.load(path)
        sync = Sync(config)
        sync.fetch([DAY])
        sync.store.close()
        with minsk("2026-03-17 12:00"):
            for bank_id in configuration.enabled_banks(config):
                bank_sync.poll(config, bank_id)
        # MTBank's Minsk departments buy USD dearer at 12:30: the city's best crosses 2.93.
        dearer = mtbank_data()
        for d in dearer["departments"]:
            if d["city"] == "Минск":
                d["currencies"] = [(c, a, "2.9400" if (c, a, n) == ("USD", "BYN", "0") else p, s, n)
                                   for c, a, p, s, n in d["currencies"]]
        serve(feeds["mtbank"], "mtbank", mtbank_body(dearer))
        with minsk("2026-03-17 12:30"):
            bank_sync.poll(config, "mtbank")
            conn = reader.connect(config.database.path)
            [event] = firing.evaluate(conn, config, DAY)
    finally:
        for server in feeds.values():
            server.stop()
    before, after = best_of(city_quotes(), "buy")[0], best_of(city_quotes(mtbank=dearer), "buy")
    assert before <= Decimal("2.93") < after[0]
    first = min((d for d in dearer["departments"] if ("mtbank", d["id"]) in after[1]), key=lambda d: d["address"])
    quoting = sum(1 for (_, _, side) in city_quotes(mtbank=dearer) if side == "buy")
    assert event.rule.source == "banks"
    assert event.message.splitlines()[:2] == [
        f"MTBank buys USD at {after[0]} BYN in Минск from 12:30 Minsk time, above 2.93 BYN",
        f"Best of {quoting} points: MTBank, {first['address']}: {first['label']} and {len(after[1]) - 1} more"]
