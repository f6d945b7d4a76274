"""ticker.json and ticker.txt: what `ticker line` shows, replaced atomically, and `ticker line --write`."""

import errno
import json
import os
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.nbrb_data import recorded_rates

from ticker import config as configuration
from ticker.cli import cli
from ticker.errors import NoData
from ticker.outputs import tickerfiles
from ticker.store import reader

DAY = date(2026, 3, 17)


@pytest.fixture
def config_file(tmp_path, recorded_db):
    # No fetching here: the recorded database is only read, so the NBRB address is never used.
    return write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'})


def run(config_file, *args):
    result = CliRunner().invoke(cli, ["--config", str(config_file), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def write(config, folder, day):
    """Both files for `day` into `folder`, as `ticker chart` stages them."""
    conn = reader.connect(config.database.path)
    tickerfiles.save(folder, tickerfiles.render(conn, config.line.currencies, day, config.line.precision))
    conn.close()


def listing(folder):
    return sorted(os.listdir(folder))


def test_files_hold_what_ticker_line_shows(config_file, tmp_path):
    folder = tmp_path / "staged"
    folder.mkdir()
    write(configuration.load(config_file), folder, DAY)
    assert listing(folder) == ["ticker.json", "ticker.txt"]
    assert (folder / "ticker.json").read_text("utf-8") == run(config_file, "line", "--date", "2026-03-17", "--json")
    assert (folder / "ticker.txt").read_text("utf-8") == run(config_file, "line", "--date", "2026-03-17")


def test_json_has_the_date_and_each_rate_scale_change_and_direction(config_file, tmp_path):
    write(configuration.load(config_file), tmp_path, DAY)
    data = json.loads((tmp_path / "ticker.json").read_text("utf-8"))
    assert data["date"] == "2026-03-17"
    march = {(code, day): Decimal(text) for (_, day), (code, _, text) in recorded_rates().items()
             if day.startswith("2026-03-")}
    shown = []
    for item, code, scale in zip(data["currencies"], ("RUB", "USD", "EUR"), (100, 1, 1)):
        rate = march[code, "2026-03-17"]
        previous = next(march[code, f"2026-03-{d:02}"] for d in range(16, 0, -1)
                        if march[code, f"2026-03-{d:02}"] != rate)
        assert (item["code"], item["scale"], Decimal(item["rate"])) == (code, scale, rate)
        assert Decimal(item["change"]) == rate - previous
        assert item["direction"] == ("up" if rate > previous else "down")
        shown.append(f"{code} {rate.quantize(Decimal('0.01'), ROUND_HALF_UP)} BYN {'▲' if rate > previous else '▼'}")
    assert (tmp_path / "ticker.txt").read_text("utf-8") == " · ".join(shown) + "\n"
    assert data["line"] + "\n" == (tmp_path / "ticker.txt").read_text("utf-8")


def test_each_file_is_replaced_not_rewritten(config_file, tmp_path):
    config = configuration.load(config_file)
    write(config, tmp_path, date(2026, 3, 16))
    before = {name: (tmp_path / name).stat().st_ino for name in tickerfiles.NAMES}
    old = (tmp_path / "ticker.json").read_text("utf-8")
    write(config, tmp_path, DAY)
    assert json.loads(old)["date"] == "2026-03-16"
    assert json.loads((tmp_path / "ticker.json").read_text("utf-8"))["date"] == "2026-03-17"
    assert all((tmp_path / name).stat().st_ino != inode for name, inode in before.items())
    assert listing(tmp_path) == ["config.toml", "ticker.json", "ticker.txt"]


def test_a_failed_write_leaves_the_old_files(config_file, tmp_path, monkeypatch):
    config = configuration.load(config_file)
    write(config, tmp_path, date(2026, 3, 16))
    old = {name: (tmp_path / name).read_bytes() for name in tickerfiles.NAMES}
    with pytest.raises(NoData, match="the RUB rate for 2027-01-01 is not published yet"), minsk("2026-03-17 18:51"):
        write(config, tmp_path, date(2027, 1, 1))
    assert {name: (tmp_path / name).read_bytes() for name in tickerfiles.NAMES} == old

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write(config, tmp_path, DAY)
    assert {name: (tmp_path / name).read_bytes() for name in tickerfiles.NAMES} == old
    assert listing(tmp_path) == ["config.toml", "ticker.json", "ticker.txt"]


def test_line_write_creates_latest(config_file, tmp_path):
    shown = run(config_file, "line", "--date", "2026-03-17", "--write")
    latest = tmp_path / "charts" / "latest"
    assert shown == (latest / "ticker.txt").read_text("utf-8")
    assert (latest / "ticker.json").read_text("utf-8") == run(config_file, "line", "--date", "2026-03-17", "--json")
    # --json --write prints the JSON and writes the same files.
    assert run(config_file, "line", "--date", "2026-03-17", "--json", "--write") == (
        latest / "ticker.json").read_text("utf-8")


def test_line_write_follows_a_latest_symlink(config_file, tmp_path):
    target = tmp_path / "charts" / "2026-03-17"
    target.mkdir(parents=True)
    (tmp_path / "charts" / "latest").symlink_to(target.name)
    run(config_file, "line", "--date", "2026-03-17", "--precision", "4", "--write")
    assert (tmp_path / "charts" / "latest").is_symlink()
    assert listing(target) == ["ticker.json", "ticker.txt"]
    assert (target / "ticker.txt").read_text("utf-8").startswith("RUB 3.6709 BYN ")


# -- the best bank rates beside the official ones ([banks] show = ["ticker"]) -------------------


def bank_config(tmp_path, bank_db, **banks):
    return write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{bank_db}"'}, banks=banks)


def half_up(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def test_line_shows_the_best_minsk_buy_and_sell_as_the_days_last_answer_had_them(tmp_path, bank_db):
    from support.banks import best_in, history

    config_file = bank_config(tmp_path, bank_db, show='["ticker"]')
    last = history()[-1][1]  # 2026-03-17 12:00 Minsk: the head office sells USD at 2.0600
    best = {code: (best_in(last, "Минск", f"{code}_in"), best_in(last, "Минск", f"{code}_out"))
            for code in ("RUB", "USD", "EUR")}
    assert best["USD"] == (Decimal("2.0550"), Decimal("2.0600"))
    with minsk("2026-03-17 18:00"):
        data = json.loads(run(config_file, "line", "--json"))
        text = run(config_file, "line")
    for entry in data["currencies"]:
        buy, sell = best[entry["code"]]
        # Belarusbank quotes RUB per 100, as NBRB does: the same units as the official rate.
        assert entry["bank"] == {"city": "Минск", "as_of": "2026-03-17T09:00:00Z", "scale": entry["scale"],
                                 "buy": str(buy), "sell": str(sell), "buy_banks": ["belarusbank"],
                                 "sell_banks": ["belarusbank"]}
    official = {e["code"]: Decimal(e["rate"]) for e in data["currencies"]}
    expected = " · ".join(f"{code} {half_up(official[code])} BYN {mark} ({half_up(best[code][0])}/"
                          f"{half_up(best[code][1])})" for code, mark in (("RUB", "▼"), ("USD", "▲"), ("EUR", "▲")))
    assert text == data["line"] + "\n" == expected + "\n"
    assert expected.startswith("RUB 3.67 BYN ▼ (3.21/3.24) · USD 2.95 BYN ▲ (2.06/2.06)")


def test_a_past_day_shows_its_last_answer_and_a_day_without_one_shows_none(tmp_path, bank_db):
    from support.banks import best_in, history

    config_file = bank_config(tmp_path, bank_db, show='["ticker"]')
    evening = dict(history())["2026-03-12 16:00"]  # Minsk's rates up by 0.02 since the recording
    with minsk("2026-03-17 18:00"):
        twelfth = json.loads(run(config_file, "line", "--date", "2026-03-12", "--json"))
        eleventh = json.loads(run(config_file, "line", "--date", "2026-03-11", "--json"))
    usd = next(e for e in twelfth["currencies"] if e["code"] == "USD")["bank"]
    assert (usd["as_of"], usd["buy"], usd["sell"]) == (
        "2026-03-12T13:00:00Z", str(best_in(evening, "Минск", "USD_in")), str(best_in(evening, "Минск", "USD_out")))
    assert (usd["buy"], usd["sell"]) == ("2.0750", "2.0880")
    assert [e["bank"] for e in eleventh["currencies"]] == [None, None, None]
    assert "(" not in eleventh["line"]


def test_bank_rates_show_by_default_only_while_the_bank_is_polled(tmp_path, bank_db):
    for name in ("off", "polled", "asked"):
        (tmp_path / name).mkdir()
    polled = write_config(tmp_path / "polled", "http://127.0.0.1:9", database={"path": f'"{bank_db}"'},
                          belarusbank={"enabled": "true"})
    assert configuration.load(polled).banks.outputs == ("page", "ticker", "charts")
    with minsk("2026-03-17 18:00"):
        off = json.loads(run(bank_config(tmp_path / "off", bank_db), "line", "--json"))
        shown = json.loads(run(polled, "line", "--json"))
        asked = json.loads(run(bank_config(tmp_path / "asked", bank_db, show="[]", city='"Брест"'), "line", "--json"))
    assert all("bank" not in e for e in off["currencies"] + asked["currencies"])
    assert [e["bank"]["city"] for e in shown["currencies"]] == ["Минск"] * 3
