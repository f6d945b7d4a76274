"""The bank poll in the daemon: its job called directly with a pinned clock, its health in `ticker status`,
and real `ticker run` processes showing that a slow bank never delays NBRB, nor the other way round."""

import json
import logging
import sqlite3
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.banks import answer, bank_section, nonzero, recorded_points
from support.nbrb_data import synthetic_server
from support.daemon import NEVER, daemon_config, query, today

from ticker import config as configuration
from ticker import days
from ticker.cli import cli
from ticker.service.daemon import Daemon
from ticker.sync.official import Sync

COUNT = sum(len(nonzero(p)) for p in recorded_points())


@pytest.fixture
def config(tmp_path, nbrb, bank):
    """USD, EUR and RUB stored for 2026-03-17 (so `status` is up to date that day) and the bank enabled."""
    config = configuration.load(write_config(tmp_path, nbrb.url, track={"currencies": '["USD", "EUR", "RUB"]',
                                                                        "since": "2026-03-17"},
                                             belarusbank=bank_section(bank)))
    with minsk("2026-03-17 11:50"):
        sync = Sync(config)
        sync.backfill()
        sync.store.close()
        Daemon(config, hooks=[]).started()
    return config


def job_row(config):
    conn = sqlite3.connect(config.database.path)
    conn.row_factory = sqlite3.Row
    return dict(conn.execute("SELECT * FROM daemon_jobs WHERE job = 'belarusbank'").fetchone())


def status(config, at="2026-03-17 12:40"):
    """`ticker status` at `at`, the daemon's heartbeat just written (its own staleness is tested elsewhere)."""
    with minsk(at):
        Daemon(config, hooks=[]).beat()
        return CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)


def test_the_job_records_its_success_and_next_run(config, caplog):
    caplog.set_level(logging.INFO, "ticker")
    assert job_row(config)["next_run"] == "2026-03-17T09:00:00Z"  # written at start: 12:00 Minsk
    with minsk("2026-03-17 12:00"):
        Daemon(config, hooks=[]).bank("belarusbank")
    row = job_row(config)
    what = f"542 points, {COUNT} rates: {COUNT} new or changed, 0 no longer quoted"
    assert caplog.messages[-1] == f"belarusbank: {what}"
    assert (row["last_success"], row["failures"], row["running_since"], row["next_run"]) == (
        what, 0, None, "2026-03-17T09:30:00Z")
    assert row["last_success_at"].startswith("2026-03-17T09:00:")
    out = status(config)
    assert out.exit_code == 0, out.output
    assert f"bank rates    belarusbank: 542 points, {COUNT} rates, last answer 2026-03-17T09:00:" in out.output
    assert "bank poll     belarusbank: next 2026-03-17T09:30:00Z\n" in out.output
    assert f"bank success  belarusbank: {row['last_success_at']}  {what}\n" in out.output
    assert "bank error    belarusbank: none yet\n" in out.output
    with minsk("2026-03-17 12:40"):
        data = json.loads(CliRunner().invoke(cli, ["--config", str(config.file), "status", "--json"]).output)
    assert list(data["banks"]) == ["belarusbank"]  # the banks enabled or with answers stored
    health = data["banks"]["belarusbank"]
    assert health["enabled"] is True and health["failing"] is None
    assert health["last_answer"]["points"] == 542 and health["job"]["last_success"] == what


def test_a_failing_bank_is_one_log_line_a_time_and_stale_after_three(config, bank, caplog):
    caplog.set_level(logging.INFO, "ticker")
    answer(bank, "<html><body>Ведутся технические работы</body></html>".encode(), "text/html; charset=utf-8")
    daemon = Daemon(config, hooks=[])
    for n, at in enumerate(("12:00", "12:30", "13:00"), 1):
        with minsk(f"2026-03-17 {at}"):
            daemon.bank("belarusbank")
        assert job_row(config)["failures"] == n
        if n == 2:
            assert status(config).exit_code == 0  # two failures: not yet
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and all("\n" not in r.getMessage() for r in errors)
    assert errors[0].getMessage().startswith(
        "belarusbank poll failed: Belarusbank sent a damaged response: http://127.0.0.1:")
    assert errors[0].getMessage().endswith(": expected JSON, got text/html; charset=utf-8: <html><body>Ведутся"
                                           " технические работы</body></html>, still after 1 retry; set"
                                           " belarusbank.base_url in the config to use a mirror or proxy")
    out = status(config, "2026-03-17 13:05")
    assert out.exit_code == 1
    row = job_row(config)
    # The verdict, status's first line, says why.
    assert out.output.startswith(f"stale: the belarusbank poll failed 3 times in a row, last at {row['last_error_at']}:"
                                 f" Belarusbank sent a damaged response: ")
    answer(bank, recorded_points())
    with minsk("2026-03-17 13:30"):
        daemon.bank("belarusbank")
    assert job_row(config)["failures"] == 0
    assert status(config, "2026-03-17 13:35").exit_code == 0
    assert query(config.file, "SELECT status FROM bank_polls ORDER BY id") == [("error",)] * 3 + [("ok",)]


def test_refused_points_are_logged_one_line_each_up_to_twenty(config, bank, caplog):
    caplog.set_level(logging.INFO, "ticker")
    points = recorded_points()
    for p in points[:25]:
        p["USD_in"] = "?"
    answer(bank, points)
    with minsk("2026-03-17 12:00"):
        Daemon(config, hooks=[]).bank("belarusbank")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0] == ("Belarusbank: refused point 16 (Брест, Отделение 100/212): USD_in is '?', not a rate")
    assert len(warnings) == 21 and warnings[-1] == "belarusbank: 5 more refused"
    assert caplog.messages[-1].startswith("belarusbank: 517 points, ") and caplog.messages[-1].endswith(", 25 refused")


def test_a_disabled_bank_is_not_polled_and_status_says_so(tmp_path, nbrb, bank):
    config = configuration.load(write_config(tmp_path, nbrb.url, belarusbank={"base_url": f'"{bank.url}"'}))
    daemon = Daemon(config, hooks=[])
    assert daemon.bank_triggers == {}
    with minsk("2026-03-17 12:00"):
        CliRunner().invoke(cli, ["--config", str(config.file), "bank-fetch"], catch_exceptions=False)
    out = status(config)
    assert "bank poll     belarusbank: disabled ([belarusbank] enabled = false)" in out.output


# -- real processes ---------------------------------------------------------------------------


def with_bank(config, bank, name="belarusbank", **keys):
    """Add a bank's section to a daemon's config; its schedule's own runs stay out of the way."""
    section = bank_section(bank, schedule=NEVER, **keys)
    config.write_text(config.read_text() + f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in section.items()))
    return config


def test_a_slow_bank_never_delays_nbrb(tmp_path, launch, bank):  # noqa: F811
    since = today() - timedelta(days=10)
    held = threading.Event()  # the bank answers only once NBRB's catch-up is done
    bank.script("/api/kursExchange", ("delay", held))
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as nbrb:
        config = with_bank(daemon_config(tmp_path, nbrb, since), bank, timeout="30")
        run = launch(config)
        catch_up = run.wait_for(r"^INFO catch-up: 33 new, 0 revised", timeout=60)
        held.set()
        polled = run.wait_for(r"^INFO belarusbank: 542 points", timeout=60)
        assert run.lines.index(catch_up) < run.lines.index(polled)
        assert run.stop(within=60) == 0  # after the refresh in progress, which load can make slow
    assert query(config, "SELECT count(*) FROM rates") == [(33,)]
    assert query(config, "SELECT status FROM bank_polls") == [("ok",)]


def test_a_slow_nbrb_never_delays_the_bank(tmp_path, launch, bank):  # noqa: F811
    since = today() - timedelta(days=10)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as nbrb:
        held = threading.Event()  # NBRB answers only once the bank's poll is done
        nbrb.script("/exrates/currencies", ("delay", held))
        config = with_bank(daemon_config(tmp_path, nbrb, since, timeout="30"), bank)
        run = launch(config)
        polled = run.wait_for(r"^INFO belarusbank: 542 points", timeout=60)
        held.set()
        catch_up = run.wait_for(r"^INFO catch-up: 33 new, 0 revised", timeout=60)
        assert run.lines.index(polled) < run.lines.index(catch_up)
        assert run.stop(within=60) == 0  # after the refresh in progress, which load can make slow
    assert query(config, "SELECT job, failures FROM daemon_jobs") == [("belarusbank", 0)]



def test_a_slow_bank_never_delays_another_and_each_has_its_health_line(tmp_path, launch, bank):
    from support.bank_feeds import feed_server

    since = today() - timedelta(days=10)
    held = threading.Event()  # Belarusbank answers only once MTBank's poll is done
    bank.script("/api/kursExchange", ("delay", held))
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as nbrb, \
            feed_server("mtbank").start() as mtbank:
        config = with_bank(with_bank(daemon_config(tmp_path, nbrb, since), bank, timeout="30"), mtbank, "mtbank")
        run = launch(config)
        assert run.wait_for(r"^INFO mtbank: polls its buy and sell rates at start", timeout=60)
        other = run.wait_for(r"^INFO mtbank: \d+ points, \d+ rates", timeout=60)
        held.set()
        slow = run.wait_for(r"^INFO belarusbank: 542 points", timeout=60)
        assert run.lines.index(other) < run.lines.index(slow)
        assert run.stop(within=60) == 0
    assert query(config, "SELECT bank, status FROM bank_polls ORDER BY bank") == [("belarusbank", "ok"), ("mtbank", "ok")]
    assert query(config, "SELECT job, failures FROM daemon_jobs ORDER BY job") == [("belarusbank", 0), ("mtbank", 0)]
    shown = CliRunner().invoke(cli, ["--config", str(config), "status"], catch_exceptions=False).output.splitlines()
    assert [line.split()[2] for line in shown if line.startswith("bank rates")] == ["belarusbank:", "mtbank:"]
    assert [line.split()[2] for line in shown if line.startswith("bank success")] == ["belarusbank:", "mtbank:"]


def test_sighup_adds_reschedules_and_removes_the_bank_jobs(tmp_path, nbrb, bank):
    from apscheduler.schedulers.background import BackgroundScheduler

    from ticker.service.daemon import _bank_jobs

    path = write_config(tmp_path, nbrb.url)
    daemon = Daemon(configuration.load(path), hooks=[])
    scheduler = BackgroundScheduler(executors={"belarusbank": {"type": "threadpool", "max_workers": 1}})
    _bank_jobs(scheduler, daemon)
    assert scheduler.get_job("belarusbank") is None
    text = path.read_text()
    for schedule, expected in (('""', "2026-03-17 12:30"), ('"15 9 * * mon-fri"', "2026-03-18 09:15")):
        path.write_text(text + f"[belarusbank]\nenabled = true\nschedule = {schedule}\n")
        assert daemon.reload(lambda: configuration.load(path))
        _bank_jobs(scheduler, daemon)
        job = scheduler.get_job("belarusbank")
        assert job.executor == "belarusbank"  # its own thread
        assert job.trigger.get_next_fire_time(None, at("2026-03-17 12:10")) == at(expected)
    path.write_text(text)
    assert daemon.reload(lambda: configuration.load(path))
    _bank_jobs(scheduler, daemon)
    assert scheduler.get_job("belarusbank") is None


def at(stamp: str):
    from datetime import datetime

    return datetime.fromisoformat(stamp).replace(tzinfo=days.minsk())


def test_a_bank_poll_that_changed_rates_refreshes_what_shows_them(config, bank, caplog):
    from ticker.alerts import delivery as alerts
    from ticker.outputs import publish

    caplog.set_level(logging.INFO, "ticker")
    # [belarusbank] enabled: the page, ticker files and charts show bank rates ([banks] show = "auto").
    assert config.banks.outputs == ("page", "ticker", "charts") and config.alerts == ()
    daemon = Daemon(config, hooks=[("the charts and ticker files", publish.refresh), ("the alerts", alerts.run)])
    for at in ("2026-03-17 12:00", "2026-03-17 12:30"):  # new rates, then the same again
        with minsk(at):
            daemon.bank("belarusbank")
    assert [m for m in caplog.messages if m.startswith("refreshed")] == ["refreshed the charts and ticker files"]
    latest = config.charts.dir / "latest"
    assert (latest / "usd-30-bank.png").is_file()
    assert json.loads((latest / "ticker.json").read_text())["currencies"][1]["bank"]["buy"] == "2.0550"
    page = (config.charts.dir / "index.html").read_text(encoding="utf-8")
    assert "the best Belarusbank rates in Минск as of 12:00 Minsk time" in page


def test_a_bank_poll_cuts_the_wal_back_unless_a_reader_holds_it(config, bank):
    from support.banks import shifted

    wal = config.database.path.with_name(config.database.path.name + "-wal")
    keeper = sqlite3.connect(config.database.path)  # as the daemon's: the -wal stays while it is open
    keeper.execute("SELECT count(*) FROM rates").fetchone()
    try:
        with minsk("2026-03-17 12:00"):
            Daemon(config, hooks=[]).bank("belarusbank")  # thousands of rates, folded in at the end
        cut = wal.stat().st_size
        reader = sqlite3.connect(f"file:{config.database.path}?mode=ro", uri=True)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM rates").fetchone()  # a snapshot the next poll must keep
        answer(bank, shifted(recorded_points(), "Минск", "0.0100"))  # every Minsk USD rate a kopeck up
        with minsk("2026-03-17 12:30"):
            Daemon(config, hooks=[]).bank("belarusbank")
        held = wal.stat().st_size
        reader.close()
    finally:
        keeper.close()
    # Cut back to what the job's own row needs after it; left as it is while a reader needs it.
    assert cut < 32 * 1024 < held, (cut, held)
