"""Charts (ticker/outputs/charts.py): drawn from series built in memory from the recorded rates, and
from a real database filled through the real fetch code, rendered to real PNGs."""

import math
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from support import minsk, write_config
from support.nbrb_data import recorded_server, synthetic_server
from support.series import rate, series

from ticker import config as configuration
from ticker.cli import cli
from ticker.errors import ChartError
from ticker.outputs import charts, publish
from ticker.store import reader
from ticker.sync.official import Sync

H1 = {"currencies": '["USD", "GBP"]', "windows": "[30, 365]"}
H1_LINE = {"currencies": '["USD", "GBP"]'}
H1_SET = ["overview-365.png", "usd-30.png", "usd-365.png", "gbp-30.png", "gbp-365.png"]


@pytest.fixture(scope="module")
def h1_db(tmp_path_factory) -> Path:
    """USD and GBP for every day of 2024-01-01..2024-07-31, as NBRB's dynamics returned them."""
    folder = tmp_path_factory.mktemp("h1")
    with recorded_server(today="2026-03-17") as server:
        config = configuration.load(write_config(folder, server.url))
        sync = Sync(config)
        sync.backfill(date(2024, 1, 1), date(2024, 7, 31), ["USD", "GBP"])
        sync.store.close()
    return config.database.path


@pytest.fixture
def h1(tmp_path, h1_db) -> Path:
    """A config of its own (charts in tmp_path/charts) on a copy of the H1 database."""
    shutil.copy(h1_db, tmp_path / "rates.sqlite")
    return write_config(tmp_path, "http://127.0.0.1:9", charts=H1, line=H1_LINE)


def run(config_file: Path, *args, code: int = 0):
    result = CliRunner().invoke(cli, ["--config", str(config_file), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def stored(db: Path, code: str) -> dict[date, Decimal]:
    """The database's own values, read without ticker's code."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT date, rate_text, scale, unit FROM rates WHERE code = ?", [code]).fetchall()
    per_byn = {"BYN": 1, "BYR": 10_000, "BYB": 10_000_000}
    return {date.fromisoformat(d): Decimal(text) / scale / per_byn[unit] for d, text, scale, unit in rows}


def lines(fig) -> dict:
    return {line.get_gid(): line for line in fig.axes[0].get_lines()}


def texts(fig) -> str:
    ax = fig.axes[0]
    return "\n".join([t.get_text() for t in fig.texts + ax.texts] + [ax.get_ylabel()])


def as_days(xdata) -> list[date]:
    return [date.fromisoformat(str(d)) for d in np.asarray(xdata, dtype="datetime64[D]")]


def assert_picture(path: Path):
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == charts.PIXELS == (975, 700)
        grey = np.asarray(image.convert("L"))
    assert (grey < 128).mean() > 0.01, f"{path.name} is blank"  # lines, text, not an empty canvas
    assert len(np.unique(grey)) > 50, f"{path.name} has no anti-aliased drawing"


def page_line(charts_dir: Path) -> str:
    """The header line as index.html shows it, tags dropped and non-breaking spaces read as spaces."""
    page = (charts_dir / "index.html").read_text(encoding="utf-8")
    [line] = re.findall(r'<p class="line">(.*?)</p>', page)
    return re.sub(r"<[^>]+>", "", line).replace("\xa0", " ")


def referenced(charts_dir: Path) -> list[str]:
    page = (charts_dir / "index.html").read_text(encoding="utf-8")
    return re.findall(r'(?:src|href)="([^"]+)"', page)


# --- the plotted data, from series in memory ------------------------------------------------------


def test_trend_plots_every_calendar_day_of_the_series():
    s = series("USD", date(2023, 8, 2), date(2024, 7, 31))  # recorded from 2024-01-01
    fig = charts.trend(s)
    rate_line = lines(fig)["rate"]
    days, values = as_days(rate_line.get_xdata()), rate_line.get_ydata()
    assert days == [date(2023, 8, 2) + timedelta(n) for n in range(365)]
    usd = {day: rate("USD", day).rate for day in days if day >= date(2024, 1, 1)}
    for day, value in zip(days, values):
        if day < date(2024, 1, 1):
            assert math.isnan(value)  # before the series starts: a gap, not a guess
        else:
            assert value == float(usd[day])
    assert values[days.index(date(2024, 1, 10))] == 3.1949
    # The 30-day average is the mean of the last 30 stored days.
    average = lines(fig)["average"].get_ydata()
    last30 = [usd[date(2024, 7, 31) - timedelta(n)] for n in range(30)]
    assert average[-1] == pytest.approx(float(sum(last30) / 30), rel=1e-12)
    # Days missing are left out of the mean, but under 20 of 30 make no mean.
    assert math.isnan(average[days.index(date(2024, 1, 19))])
    first20 = [usd[date(2024, 1, 1) + timedelta(n)] for n in range(20)]
    assert average[days.index(date(2024, 1, 20))] == pytest.approx(float(sum(first20) / 20), rel=1e-12)
    # Labels: the unit, the last value with its date, the window's extremes, the source.
    text = texts(fig)
    low, high = min(usd.values()), max(usd.values())
    assert "BYN per 1 USD" in text
    assert f"\n{usd[date(2024, 7, 31)]:.4f}\n" in text  # the last value's tag; its day is in the footer
    assert f"min {low:.4f}" in text and f"max {high:.4f}" in text
    assert "Source: National Bank of the Republic of Belarus · as of 2024-07-31" in text
    assert "USD in BYN · 365 days" in text
    assert f"{100 * (float(usd[date(2024, 7, 31)]) / float(usd[date(2024, 1, 1)]) - 1):+.1f}% since 2024-01-01" in text


def test_days_without_a_rate_are_gaps_never_bridged():
    stored = {date(2024, 7, d) for d in range(2, 32)} - {date(2024, 7, 10), date(2024, 7, 11), date(2024, 7, 12)}
    s = series("USD", date(2024, 7, 2), date(2024, 7, 31), on=stored)
    drawn = lines(charts.trend(s))["rate"]
    plotted = dict(zip(as_days(drawn.get_xdata()), drawn.get_ydata()))
    assert len(plotted) == 30
    assert [day.day for day, value in plotted.items() if math.isnan(value)] == [10, 11, 12]
    assert all(plotted[day] == float(rate("USD", day).rate) for day in stored)


def test_min_and_max_are_found_and_labelled_on_the_exact_values():
    # A rate per 100 shown per 10 has a fifth decimal: 6.9505 per 100 is 0.69505 per 10. Its float
    # is a hair under (0.695049999...), so a label from the float would read 0.6950; half up from
    # the exact value it is 0.6951. (Made up: no recorded rate has one.)
    days = [date(2026, 3, 12) + timedelta(n) for n in range(4)]
    exact = [Decimal("6.9505") / 10, None, Decimal("0.7000"), Decimal("0.7035")]
    s = reader.Series("UAH", 10, days, [math.nan if v is None else float(v) for v in exact], exact)
    assert f"{float(exact[0]):.4f}" == "0.6950"
    text = texts(charts.trend(s))
    assert "min 0.6951" in text and "max 0.7035" in text
    assert "BYN per 10 UAH" in text and "\n0.7035\n" in text
    # One value all window long: no min and max to mark.
    flat = reader.Series("UAH", 10, days, [0.7] * 4, [Decimal("0.7000")] * 4)
    assert "min" not in texts(charts.trend(flat)) and "max" not in texts(charts.trend(flat))


def test_overview_is_the_change_since_the_window_start():
    group = [series(code, date(2024, 7, 2), date(2024, 7, 31)) for code in ("USD", "GBP")]
    fig = charts.changes(group)
    legend = fig.axes[0].get_legend_handles_labels()[1]
    for code in ("USD", "GBP"):
        values = {date(2024, 7, 2) + timedelta(n): rate(code, date(2024, 7, 2) + timedelta(n)).rate for n in range(30)}
        start = values[date(2024, 7, 2)]
        expected = [float(100 * (value / start - 1)) for value in values.values()]
        assert lines(fig)[code].get_ydata() == pytest.approx(expected, abs=1e-9)
        assert f"{code} {float(100 * (values[date(2024, 7, 31)] / start - 1)):+.1f}%" in legend
    assert "% change in BYN since 2024-07-02" in texts(fig)


def test_the_overview_names_a_later_start_in_its_legend():
    usd = series("USD", date(2024, 1, 1), date(2024, 1, 31))
    gbp = series("GBP", date(2024, 1, 1), date(2024, 1, 31), on={date(2024, 1, d) for d in range(10, 32)})
    fig = charts.changes([usd, gbp])
    first, last = rate("GBP", "2024-01-10").rate, rate("GBP", "2024-01-31").rate
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1] == f"GBP {float(100 * (last / first - 1)):+.1f}% since 2024-01-10"
    assert labels[0].startswith("USD ") and "since" not in labels[0]
    assert "% change in BYN since 2024-01-01" in texts(fig)


def test_the_bank_band_is_each_days_bank_rates_in_the_official_units_with_gaps():
    from support.banks import best_in, history

    answers = dict(history())
    s = series("RUB", date(2026, 2, 16), date(2026, 3, 17))  # official, per 100
    days = s.days
    # The best Minsk buy and sell of three days' last answers, as the bank quotes RUB per 100, here
    # given per ONE rouble (divided exactly) to show the band drawn in the official rate's units.
    quoted = {date(2026, 3, 10): answers["2026-03-10 12:00"], date(2026, 3, 12): answers["2026-03-12 16:00"],
              date(2026, 3, 17): answers["2026-03-17 12:00"]}
    best = {day: (best_in(points, "Минск", "RUB_in"), best_in(points, "Минск", "RUB_out")) for day, points in quoted.items()}
    bank = reader.BankDays("RUB", "Минск", 1, days, [best[d][0] / 100 if d in best else None for d in days],
                           [best[d][1] / 100 if d in best else None for d in days])
    fig = charts.band(s, bank)
    bars = next(c for c in fig.axes[0].containers if c.get_label() == "best buy–sell, Минск")
    drawn = {as_days([np.datetime64("1970-01-01") + np.timedelta64(round(bar.get_x() + 0.5), "D")])[0]:
             (bar.get_y(), bar.get_y() + bar.get_height(), bar.get_width()) for bar in bars}
    assert drawn.keys() == best.keys()  # no bar on a day without bank rates
    for day, (buy, sell) in best.items():
        assert drawn[day][0] == float(buy) and drawn[day][1] == pytest.approx(float(sell), abs=1e-12)
        assert drawn[day][2] == 1.0
    assert lines(fig)["rate"].get_ydata()[-1] == float(rate("RUB", "2026-03-17").rate)
    buy, sell = best[date(2026, 3, 17)]
    assert f"BYN per 100 RUB · bank {buy}–{sell}" in texts(fig)  # the last day's, exact: 3.2100, not 3.21
    assert "RUB in BYN · 30 days · Минск" in texts(fig)


def test_save_writes_the_same_palette_png_for_the_same_chart(tmp_path):
    fig = charts.trend(series("EUR", date(2026, 2, 16), date(2026, 3, 17)))
    charts.save(fig, tmp_path / "a.png")
    charts.save(charts.trend(series("EUR", date(2026, 2, 16), date(2026, 3, 17))), tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    with Image.open(tmp_path / "a.png") as image:
        assert (image.format, image.size, image.mode) == ("PNG", charts.PIXELS, "P")
        assert image.info.keys() <= {"transparency", "dpi", "gamma"}  # no text chunk, no time
    assert_picture(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    assert not any(chunk in data for chunk in (b"tEXt", b"iTXt", b"zTXt", b"tIME"))


# --- the plotted data, from the database -----------------------------------------------------------


def test_missing_days_are_gaps_not_interpolated(h1, tmp_path):
    db = tmp_path / "rates.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM rates WHERE code = 'USD' AND date BETWEEN '2024-07-10' AND '2024-07-12'")
    fig = charts.trend(reader.series(reader.connect(db), "USD", date(2024, 7, 2), date(2024, 7, 31)))
    rate = lines(fig)["rate"]
    plotted = dict(zip(as_days(rate.get_xdata()), rate.get_ydata()))
    assert len(plotted) == 30
    assert [day.day for day, value in plotted.items() if math.isnan(value)] == [10, 11, 12]
    assert plotted[date(2024, 7, 13)] == float(stored(db, "USD")[date(2024, 7, 13)])


def test_rates_before_2016_07_01_are_normalised_to_byn(tmp_path):
    """RUB was quoted per 1 in BYR until 2016-06-30, per 100 in BYN from 2016-07-01."""
    with synthetic_server(since="2016-06-01", until="2016-07-31") as server:
        config = configuration.load(write_config(tmp_path, server.url))
        Sync(config).backfill(date(2016, 6, 1), date(2016, 7, 31), ["RUB"])
    conn = reader.connect(config.database.path)
    series = reader.series(conn, "RUB", date(2016, 6, 1), date(2016, 7, 31))
    fig = charts.trend(series)
    values = lines(fig)["rate"].get_ydata()
    rub = stored(config.database.path, "RUB")
    assert "BYN per 100 RUB" in texts(fig)
    assert list(values) == [float(rub[day] * 100) for day in series.days]
    before, after = values[series.days.index(date(2016, 6, 30))], values[series.days.index(date(2016, 7, 1))]
    with sqlite3.connect(config.database.path) as db:
        assert db.execute("SELECT unit, scale FROM rates WHERE code = 'RUB' AND date = '2016-06-30'").fetchone() == ("BYR", 1)
    assert 0.9 < after / before < 1.1  # one day's move, not a 10,000x cliff
    assert np.nanmax(values) / np.nanmin(values) < 1.5


# --- the command and the folder layout -----------------------------------------------------------


def test_chart_renders_the_dated_set_latest_and_index(h1, tmp_path):
    result = run(h1, "chart", "--date", "2024-07-31")
    out = tmp_path / "charts"
    assert result.output.splitlines() == [
        f"{out / '2024-07-31'}: {' '.join(H1_SET)} ticker.json ticker.txt",
        f"{out / 'latest'} -> 2024-07-31",
    ]
    for name in H1_SET:
        assert_picture(out / "2024-07-31" / name)
        assert (out / "latest" / name).read_bytes() == (out / "2024-07-31" / name).read_bytes()
    assert (out / "latest").is_symlink()
    header = run(h1, "line", "--date", "2024-07-31").output.strip()
    usd, gbp = stored(h1.parent / "rates.sqlite", "USD"), stored(h1.parent / "rates.sqlite", "GBP")
    assert re.fullmatch(rf"USD {usd[date(2024, 7, 31)]:.2f} BYN [▲▼] · GBP {gbp[date(2024, 7, 31)]:.2f} BYN [▲▼]", header)
    assert (out / "latest" / "ticker.txt").read_text(encoding="utf-8") == header + "\n"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page_line(out) == header and "<script" not in page
    assert referenced(out) == [f"latest/{name}" for name in H1_SET] + ["latest/ticker.txt", "latest/ticker.json"]
    assert all((out / ref).is_file() for ref in referenced(out))
    assert os.stat(out / "latest" / "usd-30.png").st_mode & 0o444 == 0o444  # a web server can read it
    assert os.stat(out / "latest").st_mode & 0o555 == 0o555


def test_same_day_again_gives_the_same_bytes_and_leaves_no_leftovers(h1, tmp_path):
    out = tmp_path / "charts"
    run(h1, "chart", "--date", "2024-07-31", "--currency", "usd", "--days", "30")
    first = (out / "2024-07-31" / "usd-30.png").read_bytes()
    run(h1, "chart", "--date", "2024-07-31", "--currency", "usd", "--days", "30")
    assert (out / "2024-07-31" / "usd-30.png").read_bytes() == first  # no timestamps in the PNG
    assert sorted(p.name for p in (out / "2024-07-31").iterdir()) == [
        "overview-30.png", "ticker.json", "ticker.txt", "usd-30.png"]
    assert [p.name for p in (out / ".sets").iterdir()] == [os.readlink(out / "latest").split("/")[-1]]


def test_an_earlier_day_gets_its_folder_but_not_latest(h1, tmp_path):
    out = tmp_path / "charts"
    run(h1, "chart", "--date", "2024-07-31", "--days", "30")
    page = (out / "index.html").read_text(encoding="utf-8")
    result = run(h1, "chart", "--date", "2024-07-15", "--days", "30")
    assert result.output.splitlines()[-1] == f"{out / 'latest'} keeps a later day's set"
    assert_picture(out / "2024-07-15" / "usd-30.png")
    assert os.readlink(out / "latest").startswith(".sets/2024-07-31.")
    assert (out / "index.html").read_text(encoding="utf-8") == page
    assert (out / "latest" / "usd-30.png").read_bytes() == (out / "2024-07-31" / "usd-30.png").read_bytes()


def test_a_real_latest_folder_is_replaced_by_the_symlink(h1, tmp_path):
    out = tmp_path / "charts"
    (out / "latest").mkdir(parents=True)
    (out / "latest" / "old.png").write_bytes(b"from another tool")
    run(h1, "chart", "--date", "2024-07-31", "--days", "30")
    assert (out / "latest").is_symlink()
    assert sorted(p.name for p in (out / "latest").iterdir()) == [
        "gbp-30.png", "overview-30.png", "ticker.json", "ticker.txt", "usd-30.png"]


def test_default_set_of_30_currencies_under_the_header_line(nbrb, tmp_path):
    config_file = write_config(tmp_path, nbrb.url)
    with minsk("2026-03-17 18:51"):
        run(config_file, "backfill", "--since", "2026-03-01")
        run(config_file, "chart")
        header = run(config_file, "line").output.strip()
    out = tmp_path / "charts"
    names = ["overview-365.png"] + [f"{c}-{w}.png" for c in ("usd", "eur", "rub") for w in (30, 365)]
    for name in names:
        assert_picture(out / "latest" / name)
    assert re.fullmatch("RUB 3.67 BYN [▲▼] · USD 2.95 BYN [▲▼] · EUR 3.37 BYN [▲▼]", header)
    assert page_line(out) == header
    assert all((out / ref).is_file() for ref in referenced(out))
    assert len(referenced(out)) == len(names) + 2


# --- bad input and failures ----------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--currency", "XYZ"], "No data: no XYZ rates in the database (it has GBP, USD); NBRB does not quote XYZ"),
    (["--date", "2023-06-30"], "No data: no USD rate before 2024-01-01 in the database;"
                               " `ticker backfill --since 2023-06-30 --currency USD` fills it"),
])
def test_bad_input_is_one_line_and_writes_nothing(h1, tmp_path, args, message):
    result = run(h1, "chart", "--date", "2024-07-31", *args, code=1)
    assert result.output == f"Error: {message}\n"
    assert not (tmp_path / "charts").exists()


def test_an_empty_window_is_refused(h1, tmp_path):
    write_config(tmp_path, "http://127.0.0.1:9", charts=H1, line={"currencies": '["USD"]'})
    with sqlite3.connect(tmp_path / "rates.sqlite") as conn:
        conn.execute("DELETE FROM rates WHERE code = 'GBP' AND date >= '2024-07-02'")
    result = run(h1, "chart", "--date", "2024-07-31", "--currency", "GBP", "--days", "30", code=1)
    assert result.output == (
        "Error: No data: no GBP rates from 2024-07-02 to 2024-07-31 in the database; run `ticker backfill`\n")
    assert not (tmp_path / "charts").exists()
    assert "--days" in run(h1, "chart", "--days", "3", code=2).output


def test_an_unwritable_output_folder_is_one_line(h1, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(h1, "chart", "--date", "2024-07-31", "--out", str(blocker / "charts"), code=1)
    assert result.output == f"Error: Could not write the charts: {blocker / 'charts'}: Not a directory\n"
    assert "is a file" in run(h1, "chart", "--date", "2024-07-31", "--out", str(blocker), code=2).output
    assert blocker.read_text() == "not a folder"


def test_latest_stays_whole_when_a_render_fails_midway(h1, tmp_path):
    """A real write error (the file size limit: EFBIG) in `ticker chart` as its own process."""
    out = tmp_path / "charts"
    with sqlite3.connect(tmp_path / "rates.sqlite") as conn:
        # Out of WAL mode, reading creates no -shm file: the size limit below hits only the charts.
        conn.execute("PRAGMA journal_mode = DELETE")
    run(h1, "chart", "--date", "2024-07-30")
    before = {p.name: p.read_bytes() for p in (out / "latest").iterdir()}
    sizes = sorted(len(data) for name, data in before.items() if name.endswith(".png"))
    limit = (sizes[0] + sizes[-1]) // 2  # the small charts fit, the large ones fail

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "ticker", "--config", str(h1), "chart", "--date", "2024-07-31"],
                          preexec_fn=small_files, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert re.fullmatch(r"Error: Could not write the charts: .*\.png: File too large\n", done.stderr)
    assert {p.name: p.read_bytes() for p in (out / "latest").iterdir()} == before
    assert os.readlink(out / "latest").startswith(".sets/2024-07-30.")
    assert not (out / "2024-07-31").exists()
    assert [p.name for p in (out / ".sets").iterdir()] == [os.readlink(out / "latest").split("/")[-1]]
    assert all((out / ref).is_file() for ref in referenced(out))
    for name in H1_SET:
        assert_picture(out / "latest" / name)


def test_leftovers_of_a_killed_render_are_swept(h1, tmp_path):
    out = tmp_path / "charts"
    (out / ".sets" / "2024-07-31.dead").mkdir(parents=True)
    (out / ".sets" / "2024-07-31.dead" / "usd-30.png").write_bytes(b"\x89PNG half")
    run(h1, "chart", "--date", "2024-07-31", "--days", "30")
    assert [p.name for p in (out / ".sets").iterdir()] == [os.readlink(out / "latest").split("/")[-1]]


# --- the daemon's entry point --------------------------------------------------------------------


def test_refresh_renders_in_a_child_process(h1, tmp_path):
    """The caller never imports matplotlib; the child keeps its font cache in $XDG_CACHE_HOME."""
    script = (
        "import sys; from datetime import date; from ticker import config; from ticker.outputs import publish;"
        f"publish.refresh(config.load({str(h1)!r}), date(2024, 7, 31));"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    for name in H1_SET:
        assert_picture(tmp_path / "charts" / "latest" / name)
    assert list((tmp_path / "cache" / "ticker" / "matplotlib").glob("fontlist-*.json"))


def test_refresh_failure_is_a_chart_error_with_the_reason(h1, tmp_path):
    config = configuration.load(h1)
    with pytest.raises(ChartError) as caught:
        publish.refresh(config, date(2023, 6, 30))
    assert str(caught.value) == (
        "Could not write the charts: No data: no USD rate before 2024-01-01 in the database; "
        "`ticker backfill --since 2023-06-30 --currency USD` fills it")
    assert not (tmp_path / "charts").exists()


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, problem", [
    ("windows", "[3]", "expected a non-empty list of whole numbers of days from 7 to 3660, got [3]"),
    ("windows", "[]", "expected a non-empty list of whole numbers of days from 7 to 3660, got []"),
    ("currencies", '"USD"', "expected a non-empty list of currency codes, got 'USD'"),
])
def test_bad_chart_settings_are_config_errors(tmp_path, key, value, problem):
    config_file = write_config(tmp_path, "http://127.0.0.1:9", charts={key: value})
    result = run(config_file, "chart", code=2)
    assert result.output == f"Error: Bad configuration: {config_file}: [charts] {key}: {problem}\n"


# --- the official rate with the best bank buy/sell band ([banks] show = ["charts"]) ------------


def test_band_is_each_days_last_bank_rates_exactly_with_gaps_between(bank_db):
    from support.banks import best_in, history

    answers = dict(history())
    # The last answer of each day in the window: 03-10 the recording, 03-12 the evening's rates
    # (up by 0.02 in Minsk), 03-17 the head office selling cheaper; no answer on the other days.
    last = {date(2026, 3, 10): answers["2026-03-10 12:00"], date(2026, 3, 12): answers["2026-03-12 16:00"],
            date(2026, 3, 17): answers["2026-03-17 12:00"]}
    expected = {day: (best_in(points, "Минск", "USD_in"), best_in(points, "Минск", "USD_out"))
                for day, points in last.items()}
    assert expected[date(2026, 3, 12)] == (Decimal("2.0750"), Decimal("2.0880"))
    conn = reader.connect(bank_db)
    first = date(2026, 2, 16)
    bank = reader.bank_days(conn, "минск", first, date(2026, 3, 17), "USD")["USD"]
    assert (bank.city, bank.scale) == ("Минск", 1)
    assert {d: (b, s) for d, b, s in zip(bank.days, bank.buy, bank.sell) if b is not None} == expected
    assert sum(b is None for b in bank.buy) == 30 - 3
    fig = charts.band(reader.series(conn, "USD", first, date(2026, 3, 17)), bank)
    bars = next(c for c in fig.axes[0].containers if c.get_label().startswith("best buy–sell"))
    # A bar a day wide on each of those days only: from the best buy up to the best sell.
    drawn = {as_days([np.datetime64("1970-01-01") + np.timedelta64(round(bar.get_x() + 0.5), "D")])[0]:
             (bar.get_y(), bar.get_y() + bar.get_height(), bar.get_width()) for bar in bars}
    assert drawn.keys() == expected.keys()
    for day, (buy, sell) in expected.items():
        assert drawn[day][0] == float(buy) and drawn[day][1] == pytest.approx(float(sell), abs=1e-12)
        assert drawn[day][2] == 1.0
    assert lines(fig)["rate"].get_ydata()[-1] == 2.9463
    text = texts(fig)
    assert "USD in BYN · 30 days · Минск" in text and "BYN per 1 USD · bank 2.0550–2.0600" in text
    assert "Sources: NBRB, Belarusbank (each day's last rates) · as of 2026-03-17" in text


def test_band_charts_are_real_pngs_only_for_windows_with_bank_rates(bank_db, tmp_path):
    config_file = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{bank_db}"'},
                               charts={"currencies": '["USD", "RUB"]', "windows": "[7, 30]"},
                               banks={"show": '["charts"]'})
    with minsk("2026-03-17 18:00"):
        out = run(config_file, "chart").output
        earlier = run(config_file, "chart", "--date", "2026-03-09").output
    assert out.splitlines()[0].endswith(": overview-30.png usd-7.png usd-7-bank.png usd-30.png usd-30-bank.png"
                                        " rub-7.png rub-7-bank.png rub-30.png rub-30-bank.png ticker.json ticker.txt")
    # Nothing was polled before 03-10: no band in windows that end on 03-09.
    assert earlier.splitlines()[0].endswith(": overview-30.png usd-7.png usd-30.png rub-7.png rub-30.png"
                                            " ticker.json ticker.txt")
    for name in ("usd-30-bank.png", "rub-7-bank.png"):
        with Image.open(tmp_path / "charts" / "2026-03-17" / name) as image:
            assert (image.format, image.size) == ("PNG", charts.PIXELS)


# --- the layout, read from the drawn artists' window extents -------------------------------------
# The trial's set: the recorded database holds 2026-03-01..17 (so a 365-day window has 17 stored
# days), USD all of January 2024, and EUR, GBP and USD on 2024-01-10.

TRIAL = dict(day=date(2026, 3, 17), currencies=["USD", "EUR", "RUB"], windows=[30, 365], overview=["RUB", "USD", "EUR"])
# A 365-day overview whose currencies start on different days: a legend of three rows.
LATER_STARTS = dict(day=date(2024, 1, 31), currencies=["USD"], windows=[30, 365], overview=["USD", "EUR", "GBP"])


def drawn(db: Path, folder: Path, day, currencies, windows, overview, only=()) -> dict:
    """Each chart (or those named in `only`) of the set `ticker chart` would draw, saved as a real
    PNG (which draws it): name -> Figure."""
    conn = reader.connect(db)
    figures = {}
    for name, _, draw in charts.plan(conn, day, currencies, windows, overview):
        if only and name not in only:
            continue
        figures[name] = fig = draw()
        charts.save(fig, folder / name)
        assert_picture(folder / name)
    return figures


def tick_labels(axis) -> list:
    """The tick labels drawn: those of the ticks inside the view, with text."""
    low, high = sorted(axis.get_view_interval())
    return [t.label1 for t in axis.get_major_ticks() if low <= t.get_loc() <= high and t.label1.get_text()]


def boxes(fig) -> dict:
    """Every text the chart shows, by what it is -> its window extent (pixels, after drawing):
    the title, note and footer, the legend as a whole, the tick labels, the min, max and last tags."""
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    found = {f"figure text {t.get_text()!r}": t.get_window_extent(renderer) for t in fig.texts}
    found["legend"] = ax.get_legend().get_window_extent(renderer)
    for axis in (ax.xaxis, ax.yaxis):
        found.update({f"tick label {t.get_text()!r}": t.get_window_extent(renderer) for t in tick_labels(axis)})
    for t in ax.texts:  # the min and max labels, and the last value's tag with its box
        patch = t.get_bbox_patch()
        found[f"label {t.get_text()!r}"] = (patch or t).get_window_extent(renderer)
    return found


def assert_apart(name: str, found: dict):
    items = list(found.items())
    for n, (a, box_a) in enumerate(items):
        for b, box_b in items[n + 1:]:
            assert not box_a.overlaps(box_b), f"{name}: {a} overlaps {b}"


def extremes(fig) -> dict:
    """'min' / 'max' -> the label's Text."""
    return {t.get_text().split()[0]: t for t in fig.axes[0].texts if t.get_text().split()[0] in ("min", "max")}


@pytest.mark.parametrize("case", [TRIAL, LATER_STARTS], ids=["trial", "later-starts"])
def test_no_text_overlaps_another_and_the_legend_clears_the_plot(recorded_db, tmp_path, case):
    figures = drawn(recorded_db, tmp_path, **case)
    for name, fig in figures.items():
        found = boxes(fig)
        assert_apart(name, found)
        plot, legend = fig.axes[0].get_window_extent(fig.canvas.get_renderer()), found["legend"]
        assert legend.y0 > plot.y1, f"{name}: the legend reaches into the plot"
        assert all(fig.bbox.contains(b.x0, b.y0) and fig.bbox.contains(b.x1, b.y1) for b in found.values()), name
    overview = figures["overview-365.png"]
    rows = {round(t.get_window_extent(overview.canvas.get_renderer()).y0) for t in overview.axes[0].get_legend().get_texts()}
    assert len(rows) == (1 if case is TRIAL else 3)  # the later starts make the legend one entry a row


@pytest.mark.parametrize("db, day, code, window", [
    ("recorded_db", date(2026, 3, 17), "USD", 365),  # the minimum on the first stored day, the maximum on the last
    ("recorded_db", date(2026, 3, 17), "RUB", 30),  # the minimum on the last day, at the right end
    ("recorded_db", date(2026, 3, 17), "EUR", 30),
    ("h1_db", date(2024, 7, 31), "USD", 365),  # a full half-year with its average
    ("h1_db", date(2024, 7, 31), "GBP", 30),
])
def test_min_and_max_labels_stay_inside_the_plot_off_the_axis_and_the_line(request, tmp_path, db, day, code, window):
    db = request.getfixturevalue(db)
    name = f"{code.lower()}-{window}.png"
    fig = drawn(db, tmp_path, day, [code], [window], [code], only=[name])[name]
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    plot, axis = ax.get_window_extent(renderer), ax.spines["bottom"].get_window_extent(renderer)
    labels = {kind: t.get_window_extent(renderer) for kind, t in extremes(fig).items()}
    assert labels.keys() == {"min", "max"}
    line = ax.transData.transform(np.column_stack([mdates.date2num(lines(fig)["rate"].get_xdata()),
                                                   lines(fig)["rate"].get_ydata()]))
    line = line[~np.isnan(line[:, 1])]
    for kind, box in labels.items():
        assert plot.x0 < box.x0 and box.x1 < plot.x1 and plot.y0 < box.y0 and box.y1 < plot.y1, (kind, box, plot)
        assert not box.overlaps(axis), f"{kind} label crosses the x axis"
        # Under the whole line (min) or over it (max): no point of the line in the label's band.
        assert (line[:, 1] > box.y1).all() if kind == "min" else (line[:, 1] < box.y0).all(), kind
    assert not labels["min"].overlaps(labels["max"])
    assert_apart(name, boxes(fig))


def test_the_overview_subtitle_and_legend_name_the_same_start(recorded_db, tmp_path):
    """The change is measured from each currency's first stored day in the window: the subtitle
    names it, not the window's first day; the legend names only a later one."""
    ours = {code: stored(recorded_db, code) for code in ("RUB", "USD", "EUR", "GBP")}

    def change(code, first, last):
        return f"{float(100 * (ours[code][last] / ours[code][first] - 1)):+.1f}%"

    fig = drawn(recorded_db, tmp_path, **TRIAL)["overview-365.png"]
    assert "% change in BYN since 2026-03-01" in texts(fig) and "2025-03-18" not in texts(fig)
    first, last = date(2026, 3, 1), date(2026, 3, 17)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        f"RUB {change('RUB', first, last)}", f"USD {change('USD', first, last)}", f"EUR {change('EUR', first, last)}"]
    assert change("USD", first, last) == "+3.3%"

    fig = drawn(recorded_db, tmp_path, **LATER_STARTS)["overview-365.png"]
    assert "% change in BYN since 2024-01-01" in texts(fig)
    last = date(2024, 1, 31)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        f"USD {change('USD', date(2024, 1, 1), last)}",
        f"EUR {change('EUR', date(2024, 1, 10), date(2024, 1, 10))} since 2024-01-10",
        f"GBP {change('GBP', date(2024, 1, 10), date(2024, 1, 10))} since 2024-01-10"]


def test_the_legend_lists_the_average_only_when_it_is_drawn(recorded_db, h1_db, tmp_path):
    # 17 stored days of 365: too few for a 30-day mean anywhere, so no line and no legend entry.
    fig = drawn(recorded_db, tmp_path, date(2026, 3, 17), ["USD"], [365], ["USD"], only=["usd-365.png"])["usd-365.png"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["USD, official rate"]
    assert "average" not in lines(fig)
    fig = drawn(h1_db, tmp_path, date(2024, 7, 31), ["USD"], [365], ["USD"], only=["usd-365.png"])["usd-365.png"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["USD, official rate", "30-day average"]
    assert not np.isnan(lines(fig)["average"].get_ydata()).all()


@pytest.mark.parametrize("window, ticks", [
    (30, ["Feb 15", "22", "Mar", "08", "15"]),  # February named at the first tick
    (7, ["Mar 11", "13", "15", "17"]),
    (365, ["May", "Jul", "Sep", "Nov", "2026", "Mar"]),  # month ticks name themselves
])
def test_the_date_axis_names_the_month_of_its_first_tick(recorded_db, tmp_path, window, ticks):
    name = f"rub-{window}.png"
    fig = drawn(recorded_db, tmp_path, date(2026, 3, 17), ["RUB"], [window], ["RUB"], only=[name])[name]
    assert [t.get_text() for t in tick_labels(fig.axes[0].xaxis)] == ticks
    assert_apart(name, boxes(fig))
