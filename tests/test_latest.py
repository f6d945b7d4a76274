"""One meaning of "latest", exact across a scale change: `ticker line`, ticker.json, the day's
table and the views agree on the rates in force today in Minsk, and separately on the days NBRB
has already published after today. The case: UAH per 10 until Friday 2026-03-13, then per 100 at
the same value per hryvnia, seen on Sunday 2026-03-15 (support.nbrb_data.uah_rescaled)."""

import json
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import frozen_clock, minsk, query_at, write_config
from support.nbrb_data import recorded_rates, recorded_server, uah_rescaled

from ticker import config as configuration
from ticker.cli import cli
from ticker.sync.official import Sync

SUNDAY = "2026-03-15 12:00"
LINE = ("UAH", "USD", "EUR")


@pytest.fixture(scope="module")
def weekend(tmp_path_factory) -> Path:
    """Every daily currency from Wednesday 2026-03-11 to Monday 2026-03-16, fetched on Sunday."""
    folder = tmp_path_factory.mktemp("weekend")
    with uah_rescaled(recorded_server(today="2026-03-15")) as server:
        config_file = write_config(folder, server.url, line={"currencies": '["UAH", "USD", "EUR"]'})
        sync = Sync(configuration.load(config_file))
        with minsk(SUNDAY):
            sync.catalogue()  # as a backfill reads it: the table names the currencies
            sync.fetch([date(2026, 3, day) for day in range(11, 17)])
        sync.store.close()
    return config_file


def run(config_file, *args) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config_file), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def per_unit(code, day) -> Decimal:
    """The recorded rate per one unit, from the CSVs in shared/nbrb (UAH is the case's own)."""
    [(scale, text)] = {(s, t) for (_, d), (c, s, t) in recorded_rates().items() if (c, d) == (code, day)}
    return Decimal(text) / scale


def test_on_sunday_the_line_shows_thursday_to_friday_not_a_fall(weekend):
    with minsk(SUNDAY):
        text = run(weekend, "line")
        data = json.loads(run(weekend, "line", "--json"))
    uah = data["currencies"][0]
    # 7.0000 per 100 equals Friday's 0.7000 per 10: the previous distinct rate is Thursday's 0.6950
    # per 10, 6.9500 per 100, and the move is Friday's: +0.0500, up.
    assert (uah["date"], uah["scale"], uah["rate"]) == ("2026-03-15", 100, "7.0000")
    assert uah["previous"] == {"date": "2026-03-12", "rate": "6.9500"}
    assert (uah["change"], uah["change_pct"], uah["direction"]) == ("0.0500", "0.72", "up")
    assert text.startswith("UAH 7.00 BYN ▲ · USD ")
    # USD and EUR: the recorded rates, compared per unit.
    for item in data["currencies"][1:]:
        code = item["code"]
        today = per_unit(code, "2026-03-15")
        before = next(per_unit(code, f"2026-03-{d:02}") for d in range(14, 10, -1)
                      if per_unit(code, f"2026-03-{d:02}") != today)
        assert Decimal(item["change"]) == today - before
        assert item["direction"] == ("up" if today > before else "down")


def test_the_views_agree_with_the_line_today_and_ahead(weekend):
    db = weekend.parent / "rates.sqlite"
    done = subprocess.run([str(Path(sys.executable).with_name("ticker")), "--config", str(weekend), "line", "--json"],
                          env=frozen_clock(SUNDAY), capture_output=True, text=True, timeout=60, check=True)
    line = json.loads(done.stdout)
    latest, upcoming = query_at(SUNDAY, db, "SELECT * FROM latest ORDER BY code", "SELECT * FROM upcoming ORDER BY code")
    stored = query_at(SUNDAY, db, "SELECT code, date FROM rates WHERE date >= '2026-03-15' ORDER BY code")[0]
    assert [r["code"] for r in latest] == [r["code"] for r in stored if r["date"] == "2026-03-15"]
    assert len(latest) == 30  # every daily currency recorded
    assert {r["date"] for r in latest} == {"2026-03-15"} and {r["date"] for r in upcoming} == {"2026-03-16"}
    assert [r["code"] for r in upcoming] == [r["code"] for r in stored if r["date"] == "2026-03-16"]
    assert line["date"] == "2026-03-15" and [a["date"] for a in line["ahead"]] == ["2026-03-16"]
    for shown, view in ((line["currencies"], latest), (line["ahead"][0]["currencies"], upcoming)):
        rows = {r["code"]: r for r in view}
        assert [item["code"] for item in shown] == list(LINE)
        for item in shown:
            row = rows[item["code"]]
            assert (row["date"], row["scale"], row["rate_text"], row["direction"]) == (
                item["date"], item["scale"], item["rate"], item["direction"])
            assert row["prev_date"] == item["previous"]["date"]
            assert Decimal(str(row["prev_rate"])) == Decimal(item["previous"]["rate"])
            assert Decimal(str(row["change"])) == Decimal(item["change"])
            assert round(Decimal(str(row["change_pct"])), 2) == Decimal(item["change_pct"])
    uah = {r["code"]: r for r in latest}["UAH"]
    assert (uah["rate"], uah["prev_date"], uah["change"], uah["direction"]) == (7.0, "2026-03-12", 0.05, "up")
    monday = {r["code"]: r for r in upcoming}["UAH"]
    assert (monday["rate_text"], monday["prev_date"], monday["change"]) == ("7.0350", "2026-03-15", 0.035)


def test_saturdays_table_shows_no_change_for_the_new_scale(weekend):
    with minsk(SUNDAY):
        saturday = json.loads(run(weekend, "table", "--date", "yesterday", "--json"))
        friday = json.loads(run(weekend, "table", "--date", "2026-03-13", "--json"))
        today = run(weekend, "table")
        thursday = run(weekend, "table", "--date", "2026-03-12")
    assert (saturday["date"], saturday["previous_date"]) == ("2026-03-14", "2026-03-13")
    uah = next(c for c in saturday["currencies"] if c["code"] == "UAH")
    assert (uah["scale"], uah["rate"], uah["previous_rate"], uah["change"], uah["change_pct"], uah["direction"]) == (
        100, "7.0000", "7.0000", "0.0000", "0.00", "none")
    uah = next(c for c in friday["currencies"] if c["code"] == "UAH")
    assert (uah["scale"], uah["rate"], uah["previous_rate"], uah["change"], uah["change_pct"], uah["direction"]) == (
        10, "0.7000", "0.6950", "0.0050", "0.72", "up")
    assert len(saturday["currencies"]) == 30 and saturday["ahead"] == []  # history, not news
    assert re.search(r"^ +100 UAH  Ukrainian Hryvnia +7\.0000 BYN +\+0\.0000 +\+0\.00%$", today, re.M)
    # A Sunday repeats Saturday, which repeats Friday: no change since the day before.
    assert re.search(r"^ +1 USD  US Dollar +[0-9.]+ BYN +\+0\.0000 +\+0\.00%$", today, re.M)
    usd = per_unit("USD", "2026-03-12") - per_unit("USD", "2026-03-11")
    mark = "▲" if usd > 0 else "▼"
    shown = re.escape(f"{per_unit('USD', '2026-03-12')} BYN  {mark} {usd:+f}")
    assert re.search(rf"^ +1 USD  US Dollar +{shown} +[+-][0-9.]+%$", thursday, re.M)
    assert today.endswith("Published ahead: 2026-03-16 (`ticker table --date 2026-03-16`)\n")
