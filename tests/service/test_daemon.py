"""The daemon's jobs called directly with a pinned clock, its schedule, health row, lock and signals' helpers.

The real `ticker run` process is tested in test_daemon_run.py.
"""

import logging
import os
import re
import socket
import sqlite3
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from click.testing import CliRunner
from support import minsk, write_config

from ticker import config as configuration
from ticker import days
from ticker.cli import cli
from ticker.errors import AlreadyRunning
from ticker.service import schedule
from ticker.service.daemon import MAX_RETRY, Daemon, notify
from ticker.service.lock import hold
from ticker.sync.official import Sync
from ticker.sync.pool import WORKERS

TRACKED = '["USD", "EUR", "RUB"]'
CUR_IDS = {"USD": 431, "EUR": 451, "RUB": 456}


def make_config(tmp_path, server, **sections):
    sections.setdefault("track", {"currencies": TRACKED, "since": "2026-03-01"})
    return configuration.load(write_config(tmp_path, server.url, **sections))


@pytest.fixture
def config(tmp_path, nbrb):
    return make_config(tmp_path, nbrb)


@pytest.fixture
def published():
    """Calls of the daemon's refresh hook (the real one renders charts in a child process)."""
    return []


def started_daemon(config, publish) -> Daemon:
    """A Daemon on a migrated database, as `ticker run` makes it before the jobs."""
    Sync(config).store.close()
    daemon = Daemon(config, hooks=[("the charts and ticker files", publish)])
    daemon.started()
    return daemon


@pytest.fixture
def daemon(config, published):
    with minsk("2026-03-01 09:00"):
        return started_daemon(config, published.append)


def publish_day(nbrb, day: str, usd: str, eur: str, rub: str):
    """NBRB publishes the rates in force on `day` (made-up values after the recordings end)."""
    for code, text in zip(("USD", "EUR", "RUB"), (usd, eur, rub)):
        nbrb.add_rates(CUR_IDS[code], {day: text})


def stored(config, sql="SELECT code, date, rate_text FROM rates ORDER BY date, code", *params):
    with sqlite3.connect(config.database.path) as conn:
        return conn.execute(sql, params).fetchall()


def asked(nbrb):
    return [q.get("ondate") for path, q in nbrb.requests if path == "/exrates/rates"]


def daemon_row(config):
    conn = sqlite3.connect(config.database.path)
    conn.row_factory = sqlite3.Row
    return dict(conn.execute("SELECT * FROM daemon").fetchone())


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=days.minsk())


# -- the schedule ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def triggers(tmp_path_factory):
    return schedule.triggers(configuration.load(None))


@pytest.mark.parametrize("now, expected", [
    ("2026-03-17 11:59", "2026-03-17 12:00"),  # Tuesday: the window opens
    ("2026-03-17 12:00:01", "2026-03-17 12:20"),
    ("2026-03-17 16:40:01", "2026-03-18 12:00"),  # the last poll is 16:40
    ("2026-03-20 16:50", "2026-03-21 12:00"),  # Friday -> Saturday (working Saturdays exist)
    ("2026-03-21 16:41", "2026-03-23 12:00"),  # Saturday -> Monday: no poll on Sunday
    ("2026-03-22 09:00", "2026-03-23 12:00"),
])
def test_default_polls_every_20_minutes_12_to_1640_monday_to_saturday(triggers, now, expected):
    assert triggers["poll"].get_next_fire_time(None, at(now)) == at(expected)


def test_default_catchup_is_daily_at_0007(triggers):
    assert triggers["catchup"].get_next_fire_time(None, at("2026-03-21 23:59")) == at("2026-03-22 00:07")
    assert triggers["catchup"].get_next_fire_time(None, at("2026-03-22 00:07:01")) == at("2026-03-23 00:07")


@pytest.mark.parametrize("now, polled_on, expected", [
    ("2026-03-17 13:05", None, "2026-03-17 13:20"),
    ("2026-03-17 13:05", "2026-03-17", "2026-03-18 12:00"),  # the next day's rates are in: stop for today
    ("2026-03-17 13:05", "2026-03-16", "2026-03-17 13:20"),  # yesterday's success says nothing of today
    ("2026-03-20 13:05", "2026-03-20", "2026-03-21 12:00"),
    ("2026-03-21 13:05", "2026-03-21", "2026-03-23 12:00"),
])
def test_polling_stops_for_the_day_once_the_next_days_rates_are_stored(triggers, now, polled_on, expected):
    done = date.fromisoformat(polled_on) if polled_on else None
    assert schedule.next_poll(triggers["poll"], at(now), done) == at(expected)


def test_schedule_hours_are_minsk_hours_whatever_the_machines_zone(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    path = tmp_path / "config.toml"
    path.write_text('[schedule]\npoll = "0 12 * * mon-fri"\n')
    poll = schedule.triggers(configuration.load(path))["poll"]
    assert poll.get_next_fire_time(None, at("2026-03-17 11:00")) == at("2026-03-17 12:00")
    # NBRB's own schedule when the key is empty, as the sources' metadata gives it.
    default = schedule.triggers(configuration.load(None))["poll"]
    assert default.get_next_fire_time(None, at("2026-03-17 11:00")) == at("2026-03-17 12:00")
    assert default.get_next_fire_time(None, at("2026-03-17 16:41")) == at("2026-03-18 12:00")


# -- the config -----------------------------------------------------------------------------


@pytest.mark.parametrize("section, line, problem", [
    ("schedule", 'poll = "*/20 12-16 * * 1-6"',
     "[schedule] poll: '*/20 12-16 * * 1-6': write the days of the week as names (mon-fri), not numbers"),
    ("schedule", 'poll = "61 * * * *"', "[schedule] poll: '61 * * * *': Error validating expression '61'"),
    ("schedule", 'catchup = "7 0 * *"', "[schedule] catchup: expected a crontab string of five fields"),
    ("schedule", "catchup = 7", "[schedule] catchup: expected a crontab string"),
    ("schedule", 'timezone = "UTC"', "[schedule] timezone: the schedule is in Minsk time, NBRB's, whatever the"
                                     " machine's zone: remove the key (only 'Europe/Minsk' is accepted), got 'UTC'"),
    ("schedule", "retry = 0", "[schedule] retry: expected a positive number, got 0"),
    ("log", 'level = "LOUD"', "[log] level: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
])
def test_bad_schedule_or_log_config_is_one_line_exit_2_and_nothing_written(tmp_path, section, line, problem):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "rates.sqlite"\n\n[{section}]\n{line}\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "run"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert f"Error: Bad configuration: {path}: {problem}" in result.output
    assert list(tmp_path.iterdir()) == [path]


def test_config_defaults_and_given_values(tmp_path):
    defaults = configuration.load(None)
    assert (defaults.schedule.poll, defaults.schedule.catchup, defaults.schedule.retry, defaults.log.level) == (
        "", "7 0 * * *", 60, "INFO")
    # An older config's [schedule] timezone still loads when it says what is true.
    older = tmp_path / "older.toml"
    older.write_text('[schedule]\ntimezone = "Europe/Minsk"\n')
    assert not hasattr(configuration.load(older).schedule, "timezone")
    path = tmp_path / "config.toml"
    path.write_text('[schedule]\npoll = "*/5 10-18 * * mon-fri"\n\n[log]\nlevel = "debug"\n')
    given = configuration.load(path)
    assert (given.schedule.poll, given.log.level) == ("*/5 10-18 * * mon-fri", "DEBUG")


def test_log_level_option_is_checked(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "r.sqlite"), "run", "--log-level", "loud"])
    assert result.exit_code == 2
    assert "Invalid value for '--log-level'" in result.output
    assert list(tmp_path.iterdir()) == []


# -- the jobs -------------------------------------------------------------------------------


def test_catch_up_fills_every_day_then_an_idle_poll_costs_one_request(daemon, config, nbrb, published):
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    rows = stored(config)
    assert len(rows) == 17 * 3
    assert rows[-3:] == [("EUR", "2026-03-17", "3.3741"), ("RUB", "2026-03-17", "3.6709"),
                         ("USD", "2026-03-17", "2.9463")]
    assert stored(config, "SELECT scale FROM rates WHERE code = 'RUB' AND date = '2026-03-17'") == [(100,)]
    assert published == [config]
    assert daemon.last_success[1] == "catch-up: 51 new, 0 revised, through 2026-03-17"

    nbrb.reset_log()
    with minsk("2026-03-17 12:00"):
        daemon.poll()
    assert nbrb.requests == [("/exrates/rates", {"ondate": "2026-03-18", "periodicity": "0"})]
    assert daemon.polled_on is None
    assert published == [config]  # nothing new, nothing to refresh
    assert daemon.last_success[1] == "poll: nothing new yet"


def test_the_monthly_list_is_asked_by_the_catch_up_at_most_once_a_day_and_never_by_a_poll(tmp_path, nbrb, published,
                                                                                          caplog):
    caplog.set_level(logging.INFO, "ticker")
    config = make_config(tmp_path, nbrb, track={"currencies": '["USD", "EUR", "RUB", "KRW"]', "since": "2026-02-01"})
    with minsk("2026-03-01 09:00"):
        daemon = started_daemon(config, published.append)
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    # KRW's made-up monthly rates, set on 2026-02-01 and 2026-03-01: two lists, one a month.
    assert stored(config, "SELECT code, date, rate_text, periodicity FROM rates WHERE code = 'KRW'") == [
        ("KRW", "2026-02-01", "2.1159", 1), ("KRW", "2026-03-01", "2.1367", 1)]
    monthly = [q["ondate"] for path, q in nbrb.requests if q.get("periodicity") == "1"]
    assert sorted(monthly) == ["2026-02-28", "2026-03-17"]
    assert "backfill of the monthly list: 2 new, 0 revised (KRW 2)" in caplog.messages
    assert daemon.last_success[1] == "catch-up: 53 new, 0 revised, through 2026-03-17"  # 51 daily, 2 monthly
    nbrb.reset_log()
    with minsk("2026-03-17 12:00"):
        daemon.poll()  # an idle poll: one request, the daily list
    assert nbrb.requests == [("/exrates/rates", {"ondate": "2026-03-18", "periodicity": "0"})]
    # April's rate, not set yet (the fake's lists end in March): asked by the first catch-up of
    # April 1st only, whatever the retries and later catch-ups of that day.
    for stamp in ("2026-04-01 00:07", "2026-04-01 00:08", "2026-04-01 13:00"):
        nbrb.reset_log()
        with minsk(stamp):
            daemon.catchup()
        asked = [q["ondate"] for path, q in nbrb.requests if q.get("periodicity") == "1"]
        assert asked == (["2026-04-01"] if stamp.endswith("00:07") else []), stamp
    nbrb.reset_log()
    with minsk("2026-04-02 00:07"):
        daemon.catchup()
    assert [q["ondate"] for path, q in nbrb.requests if q.get("periodicity") == "1"] == ["2026-04-02"]


def test_poll_stores_the_next_day_then_stops_asking_that_day(daemon, config, nbrb, published, caplog):
    caplog.set_level(logging.INFO, "ticker")
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    publish_day(nbrb, "2026-03-18", "2.9501", "3.3802", "3.6655")
    nbrb.reset_log()
    with minsk("2026-03-17 13:00"):
        daemon.poll()
    assert asked(nbrb) == ["2026-03-18", "2026-03-19"]
    assert stored(config, "SELECT code, rate_text FROM rates WHERE date = '2026-03-18' ORDER BY code") == [
        ("EUR", "3.3802"), ("RUB", "3.6655"), ("USD", "2.9501")]
    assert "poll: stored 2026-03-18: EUR 3.3802, RUB 3.6655, USD 2.9501" in caplog.messages
    assert daemon.polled_on == date(2026, 3, 17)
    assert len(published) == 2

    nbrb.reset_log()
    with minsk("2026-03-17 13:20"):
        daemon.poll()
        daemon.beat()
    assert nbrb.requests == []
    assert daemon_row(config)["next_poll"] == "2026-03-18T09:00:00Z"  # Wednesday 12:00 Minsk

    with minsk("2026-03-18 12:00"):
        daemon.poll()
    assert asked(nbrb) == ["2026-03-19"]


def test_thursday_session_sets_friday_to_sunday_and_fridays_sets_monday(daemon, config, nbrb):
    publish_day(nbrb, "2026-03-18", "2.9501", "3.3802", "3.6655")
    publish_day(nbrb, "2026-03-19", "2.9534", "3.3811", "3.6601")
    with minsk("2026-03-19 10:00"):  # Thursday before the session: Friday's rate is not known yet
        daemon.catchup()
        nbrb.reset_log()
        daemon.poll()
    assert asked(nbrb) == ["2026-03-20"]
    for day in ("2026-03-20", "2026-03-21", "2026-03-22"):
        publish_day(nbrb, day, "2.9687", "3.3850", "3.6590")
    nbrb.reset_log()
    with minsk("2026-03-19 13:00"):
        daemon.poll()
    assert asked(nbrb) == ["2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23"]
    assert stored(config, "SELECT max(date), count(*) FROM rates") == [("2026-03-22", 22 * 3)]

    nbrb.reset_log()
    with minsk("2026-03-20 12:00"):  # Friday: Monday is not published yet
        daemon.poll()
    assert asked(nbrb) == ["2026-03-23"]
    publish_day(nbrb, "2026-03-23", "2.9712", "3.3871", "3.6633")
    with minsk("2026-03-20 13:20"):
        daemon.poll()
    assert stored(config, "SELECT code, rate_text FROM rates WHERE date = '2026-03-23' ORDER BY code") == [
        ("EUR", "3.3871"), ("RUB", "3.6633"), ("USD", "2.9712")]
    assert daemon.polled_on == date(2026, 3, 20)


def test_a_sunday_start_catches_up_without_waiting_for_monday(daemon, config, nbrb, triggers):
    for day in ("2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23"):
        publish_day(nbrb, day, "2.9712", "3.3871", "3.6633")
    with minsk("2026-03-22 10:00"):
        assert triggers["poll"].get_next_fire_time(None, datetime.now(days.minsk())) == at("2026-03-23 12:00")
        daemon.catchup()
    assert stored(config, "SELECT min(date), max(date), count(*) FROM rates") == [("2026-03-01", "2026-03-23", 23 * 3)]


def test_empty_list_for_a_published_day_is_retried_and_a_later_poll_heals_it(daemon, config, nbrb, published):
    with minsk("2026-03-16 20:00"):
        Sync(config).backfill(until=date(2026, 3, 16))
    nbrb.script("/exrates/rates", "empty", "empty", "empty")  # three tries: retries = 2
    with minsk("2026-03-17 12:00"):
        daemon.poll()
    assert daemon.last_error[1] == (
        f"poll: NBRB sent a damaged response: {nbrb.url}/exrates/rates?ondate=2026-03-17&periodicity=0: it listed no"
        " rates in force on 2026-03-17, a day already published, still after 2 retries; set nbrb.base_url in the"
        " config to use a mirror or proxy")
    assert stored(config, "SELECT count(*) FROM rates WHERE date = '2026-03-17'") == [(0,)]
    assert stored(config, "SELECT kind, detail, status, error FROM fetches ORDER BY id DESC LIMIT 1") == [
        ("fetch", "2026-03-17+", "error", daemon.last_error[1].removeprefix("poll: "))]
    assert published == []
    nbrb.script("/exrates/rates", "empty")  # one damaged answer is healed by the retry
    with minsk("2026-03-17 12:20"):
        daemon.poll()
    assert stored(config, "SELECT code, rate_text FROM rates WHERE date = '2026-03-17' ORDER BY code") == [
        ("EUR", "3.3741"), ("RUB", "3.6709"), ("USD", "2.9463")]


FAULTS = [
    [(500, {}, b"oops"), (503, {}, b"busy")],
    [(429, {"Retry-After": "1"}, b""), (429, {"Retry-After": "0"}, b"")],
    ["reset", "reset"],
    [("delay", 1), ("delay", 1)],
    ["truncate", "truncate"],
    ["cut", "cut"],
    ["html", "html"],
    ["empty", "empty"],
    ["hole", "hole"],
]


@pytest.mark.parametrize("responses", FAULTS, ids=lambda r: str(r[0][0] if isinstance(r[0], tuple) else r[0]))
def test_each_fault_alone_is_healed_within_the_catch_up(tmp_path, nbrb, published, responses):
    config = make_config(tmp_path, nbrb, nbrb={"base_url": f'"{nbrb.url}"', "timeout": "0.3", "retries": "2",
                                               "backoff": "0.05"})
    daemon = started_daemon(config, published.append)
    nbrb.script("/exrates/rates/dynamics/", *responses)
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    assert (daemon.last_error, daemon.failures, daemon.retry_at) == (None, 0, None)
    assert stored(config, "SELECT code, date, rate_text FROM rates WHERE date = '2026-03-10' ORDER BY code") == [
        ("EUR", "2026-03-10", "3.3727"), ("RUB", "2026-03-10", "3.7312"), ("USD", "2026-03-10", "2.9189")]
    assert stored(config, "SELECT count(*), count(DISTINCT date) FROM rates") == [(17 * 3, 17)]
    assert len(nbrb.faults) == 2 and published == [config]


def test_one_failing_span_never_stops_the_others_and_what_still_fails_is_one_line(tmp_path, nbrb, published, caplog):
    caplog.set_level(logging.INFO, "ticker")
    config = make_config(tmp_path, nbrb)
    daemon = started_daemon(config, published.append)
    nbrb.script("/exrates/rates/dynamics/451", *[(502, {}, b"bad gateway")] * 3 * 4)  # every try of 4 rounds
    with time_machine.travel(at("2026-03-17 10:00"), tick=False):
        daemon.catchup()
        assert daemon.retry_at == datetime.now(timezone.utc) + timedelta(seconds=60)
    assert stored(config, "SELECT code, count(*) FROM rates GROUP BY code") == [("RUB", 17), ("USD", 17)]
    failed = [m for m in caplog.messages if m.startswith("catch-up failed: ")]
    assert failed == [
        "catch-up failed: NBRB answered only in part: still failing after 3 more rounds: EUR 2026-03-01..2026-03-17"
        f" (Could not reach NBRB: {nbrb.url}/exrates/rates/dynamics/451?startdate=2026-03-01&enddate=2026-03-17:"
        " HTTP 502, still after 2 retries; set nbrb.base_url in the config to use a mirror or proxy)"]
    assert [m for m in caplog.messages if "trying again" in m] == [
        f"backfill: trying again 1 request(s) set aside (round {n} of 3)" for n in (1, 2, 3)]
    assert published == [config]  # it stored new rates: the outputs show them
    with minsk("2026-03-17 10:01"):
        daemon.catchup()
    assert (daemon.failures, daemon.retry_at) == (0, None)
    assert stored(config, "SELECT count(*) FROM rates") == [(17 * 3,)]


def test_the_retry_delay_doubles_only_while_attempts_store_nothing(tmp_path, nbrb, published):
    config = make_config(tmp_path, nbrb)
    daemon = started_daemon(config, published.append)
    with minsk("2026-03-17 09:00"):
        Sync(config).catalogue()
    delays = []
    for attempt in range(4):
        # NBRB down: nothing stored; but the third attempt stores USD while EUR and RUB fail.
        nbrb.script("/exrates/rates/dynamics/431", *[("delay", 0)] * (attempt == 2))
        nbrb.script("/exrates/rates/dynamics/", *[(503, {}, b"busy")] * 30)
        with time_machine.travel(at("2026-03-17 10:00"), tick=False):
            daemon.catchup()
            delays.append((daemon.retry_at - datetime.now(timezone.utc)).total_seconds())
        nbrb.unscript()  # nothing left over for the next attempt
    assert delays == [60, 120, 60, 120]
    assert stored(config, "SELECT code, count(*) FROM rates GROUP BY code") == [("USD", 17)]


def test_the_retry_delay_is_capped_at_an_hour(daemon):
    daemon.failures = 20
    daemon.config.nbrb.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    daemon.config.nbrb.retries = 0
    with time_machine.travel(at("2026-03-17 10:00"), tick=False):
        daemon.catchup()
        assert daemon.retry_at == datetime.now(timezone.utc) + timedelta(seconds=MAX_RETRY)
        assert daemon.retry_due(datetime.now(timezone.utc) + timedelta(seconds=MAX_RETRY))
    assert "Connection refused" in daemon.last_error[1]
    assert daemon.retry_at is None  # handed to the main thread once


def test_a_writer_holding_the_database_makes_the_job_wait_not_fail(daemon, config, nbrb):
    other = sqlite3.connect(config.database.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(1.0, other.execute, ["COMMIT"])
    releaser.start()
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    releaser.join(timeout=30)
    assert not releaser.is_alive()
    assert daemon.last_error is None
    assert stored(config, "SELECT count(*) FROM rates") == [(17 * 3,)]


def test_a_failing_refresh_is_logged_and_recorded_never_raised(config, caplog):
    def broken(_config):
        raise RuntimeError("the charts folder vanished")

    daemon = started_daemon(config, broken)
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    assert daemon.last_error[1] == "refresh: RuntimeError: the charts folder vanished"
    assert "refreshing the charts and ticker files failed: RuntimeError: the charts folder vanished" in caplog.messages
    assert daemon.last_success[1].startswith("catch-up: 51 new")


def test_a_refresh_cut_short_by_a_stop_is_no_error(config, caplog):
    caplog.set_level(logging.INFO, "ticker")

    def interrupted(_config):  # Ctrl-C reaches the child drawing the charts as well as the daemon
        daemon.stopping = True
        raise RuntimeError("Aborted!")

    daemon = started_daemon(config, interrupted)
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
    assert daemon.last_error is None
    assert caplog.messages[-1] == "refreshing the charts and ticker files interrupted: the daemon is stopping"


def test_a_stop_interrupts_a_backfill_between_two_batches(tmp_path, nbrb, published, caplog):
    caplog.set_level(logging.INFO, "ticker")
    codes = '["USD", "EUR", "RUB", "GBP", "CNY", "PLN"]'
    config = make_config(tmp_path, nbrb, track={"currencies": codes, "since": "2026-03-01"})
    with minsk("2026-03-01 09:00"):
        daemon = started_daemon(config, published.append)
    nbrb.script("/exrates/rates/dynamics/", *[("delay", 0.5)] * 6)
    worker = threading.Thread(target=daemon.catchup)
    with minsk("2026-03-17 10:00"):
        worker.start()
        deadline = time.monotonic() + 30
        while sum("/dynamics/" in path for path, _ in nbrb.requests) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.01)
        daemon.stopping = True
        worker.join(timeout=30)
        assert not worker.is_alive()
    assert stored(config, "SELECT count(DISTINCT code), count(*) FROM rates") == [(1, 17)]  # the first answer
    assert stored(config, "SELECT status, error FROM fetches WHERE kind = 'backfill'") == [
        ("error", "Interrupted: the daemon is stopping")]
    assert "catch-up interrupted: the daemon is stopping; it stored 17 rates" in caplog.messages
    assert daemon.retry_at is None and daemon.last_error is None
    daemon.poll()
    daemon.beat()
    # The catalogue and the spans in flight at the stop: nothing asked after it.
    assert len(nbrb.requests) == 1 + WORKERS


def test_a_long_catch_up_logs_its_progress(tmp_path, published, caplog):
    from support.nbrb_data import synthetic_server

    caplog.set_level(logging.INFO, "ticker")
    with synthetic_server(since="2016-07-01", until="2026-03-17") as server:
        config = make_config(tmp_path, server, track={"currencies": '["USD", "EUR", "RUB"]', "since": "2016-07-01"})
        daemon = started_daemon(config, published.append)
        with minsk("2026-03-17 10:00"):
            daemon.catchup()
    lines = [m for m in caplog.messages if re.match(r"catch-up: \d+%: ", m)]
    days = (date(2026, 3, 17) - date(2016, 7, 1)).days + 1
    assert 9 <= len(lines) <= 11  # a line each tenth of the days planned (each 30 s, too, on a slow machine)
    # Spans are stored as they arrive, so the first line comes after three or four of the 30.
    assert re.fullmatch(r"catch-up: 1\d%: 0 of 3 currencies done, (1095|1357) rates stored, 0 requests "
                        r"failed so far", lines[0])
    # The currencies are asked in turn, so they finish together at the end; the rates are there.
    last = re.fullmatch(r"catch-up: (9\d|100)%: [0-3] of 3 currencies done, (\d+) rates stored, 0 requests failed "
                        r"so far", lines[-1])
    assert last and int(last.group(2)) >= int(last.group(1)) * 3 * days // 100 - 3 * 365
    shown = [int(re.match(r"catch-up: (\d+)%", line).group(1)) for line in lines]
    assert shown == sorted(set(shown))
    assert daemon.last_success[1] == f"catch-up: {3 * days} new, 0 revised, through 2026-03-17"


def test_ended_and_monthly_currencies_warn_once_and_never_block_the_others(tmp_path, nbrb, published, caplog):
    nbrb.add_rates(441, {f"2025-12-{d:02}": "1.7284" for d in range(25, 32)})
    nbrb.add_rates(431, {f"2025-12-{d:02}": "2.9500" for d in range(25, 32)})
    nbrb.add_rates(431, {f"2026-{m:02}-{d:02}": "2.9500" for m, n in ((1, 31), (2, 28)) for d in range(1, n + 1)})
    config = make_config(tmp_path, nbrb, track={"currencies": '["USD", "BGN"]', "since": "2025-12-25"})
    daemon = started_daemon(config, published.append)
    for at_ in ("2026-03-17 10:00", "2026-03-17 10:30"):
        with minsk(at_):
            daemon.catchup()
            daemon.poll()
    assert daemon.last_error is None
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING] == [
        ("WARNING", "BGN: NBRB stopped quoting it after 2025-12-31")]
    assert stored(config, "SELECT code, min(date), max(date), count(*) FROM rates GROUP BY code") == [
        ("BGN", "2025-12-25", "2025-12-31", 7), ("USD", "2025-12-25", "2026-03-17", 83)]


# -- health -------------------------------------------------------------------------------


def test_the_daemon_row_and_status_show_heartbeat_next_runs_and_last_results(daemon, config, nbrb):
    with minsk("2026-03-17 10:00"):
        daemon.catchup()
        daemon.beat()
        row = daemon_row(config)
        result = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    assert (row["pid"], row["state"], row["job"]) == (os.getpid(), "running", None)
    assert row["next_poll"] == "2026-03-17T09:00:00Z" and row["next_catchup"] == "2026-03-17T21:07:00Z"
    assert row["last_success"] == "catch-up: 51 new, 0 revised, through 2026-03-17"
    assert row["last_error"] is None
    assert result.exit_code == 0, result.output
    assert f"daemon        running, pid {os.getpid()}, ticker " in result.output
    assert "next poll     2026-03-17T09:00:00Z\n" in result.output
    assert "job success   " in result.output and "catch-up: 51 new, 0 revised" in result.output
    assert "job error     none yet\n" in result.output
    assert result.output.startswith("up to date: 3 currencies through 2026-03-17\n")
    assert "stale" not in result.output

    with minsk("2026-03-17 10:04"):  # four minutes without a heartbeat
        result = CliRunner().invoke(cli, ["--config", str(config.file), "status", "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert f'"daemon_stale": "no heartbeat from the daemon (pid {os.getpid()}) since 2026-03-17T07:00' in result.output

    with minsk("2026-03-17 10:05"):
        daemon.stopped()
    with minsk("2026-03-17 10:06"):  # a stopped daemon keeps nothing current, however recent its beat
        result = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith("stale: the daemon stopped at 2026-03-17T07:05")
    assert "up to date" not in result.output


def test_without_a_daemon_only_the_data_decide_status(config, nbrb):
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        result = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "\ndaemon " not in result.output and "\nheartbeat " not in result.output


def test_the_row_shows_the_running_job_then_the_failure_and_the_retry(daemon, config, nbrb, published):
    with minsk("2026-03-17 09:00"):
        Sync(config).catalogue()
    nbrb.script("/exrates/rates/dynamics/431", ("delay", 0.5))  # USD answers, late; EUR and RUB fail
    nbrb.script("/exrates/rates/dynamics/", *[(502, {}, b"bad gateway")] * 3 * 2 * 4)
    worker = threading.Thread(target=daemon.catchup)
    with minsk("2026-03-17 10:00"):
        worker.start()
        deadline = time.monotonic() + 30
        while not any("/dynamics/" in path for path, _ in nbrb.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert daemon_row(config)["job"] == "catch-up"
        worker.join(timeout=30)
        assert not worker.is_alive()
    row = daemon_row(config)
    assert row["job"] is None
    assert row["last_error"].startswith("catch-up: NBRB answered only in part: still failing after 3 more rounds: "
                                        "EUR 2026-03-01..2026-03-17, RUB 2026-03-01..2026-03-17 (Could not reach NBRB: ")
    assert "dynamics/451" in row["last_error"] or "dynamics/456" in row["last_error"]
    assert "HTTP 502" in row["last_error"]
    # The retry, a minute after the job ended (its retries took a few seconds of the ticking clock).
    assert "2026-03-17T07:01:00Z" <= row["next_catchup"] <= "2026-03-17T07:01:20Z"
    assert published == [config]  # USD was stored: the outputs show it


# -- reload, lock, systemd ------------------------------------------------------------------


def test_reload_keeps_the_running_config_when_the_new_one_is_bad(daemon, config, caplog):
    path = config.file
    text = path.read_text()
    path.write_text(text + '\n[schedule]\npoll = "*/20 12-16 * * 1-6"\n')
    assert not daemon.reload(lambda: configuration.load(path))
    assert daemon.config is config
    assert caplog.messages[-1].startswith(f"SIGHUP: kept the running configuration: Bad configuration: {path}: "
                                          "[schedule] poll:")

    path.write_text(text.replace('"rates.sqlite"', '"other.sqlite"'))
    assert not daemon.reload(lambda: configuration.load(path))
    assert "database.path cannot change while running" in caplog.messages[-1]

    path.write_text(text + '\n[schedule]\npoll = "0 9 * * mon-fri"\n')
    assert daemon.reload(lambda: configuration.load(path))
    assert daemon.config.schedule.poll == "0 9 * * mon-fri"
    assert daemon.triggers["poll"].get_next_fire_time(None, at("2026-03-17 10:00")) == at("2026-03-18 09:00")


def test_the_lock_admits_one_writer_and_names_the_holder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "db" / "rates.sqlite"
    fd = hold(database)
    assert (tmp_path / "db" / "rates.sqlite.lock").read_text() == f"{os.getpid()}\n"
    with pytest.raises(AlreadyRunning) as refused:
        hold(database)
    assert str(refused.value) == f"Already running: another ticker daemon (pid {os.getpid()}) is writing db/rates.sqlite"
    os.close(fd)
    os.close(hold(database))


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    """A datagram socket where systemd would listen, named in NOTIFY_SOCKET."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


def test_sd_notify_and_the_watchdog_ping_of_the_heartbeat(systemd, daemon, monkeypatch):
    notify("READY=1")
    assert systemd.recv(100) == b"READY=1"
    monkeypatch.setenv("WATCHDOG_USEC", "180000000")
    daemon.beat()
    assert systemd.recv(100) == b"WATCHDOG=1"


def test_sd_notify_outside_systemd_does_nothing(monkeypatch, caplog):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notify("READY=1")
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/notify")
    notify("READY=1")
    assert caplog.messages == ["could not notify systemd (READY=1): [Errno 2] No such file or directory"]


# -- a job past its deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("job, minutes", [("catch-up", 60), ("poll", 15)])
def test_status_calls_a_job_running_past_its_deadline_stale_it_hangs(daemon, config, nbrb, job, minutes):
    with minsk("2026-03-17 10:00"):
        daemon.catchup()  # every day stored: only the job can make status stale
        daemon.job, daemon.job_since = job, at("2026-03-17 10:00") - timedelta(minutes=minutes, seconds=-30)
        daemon.save()  # the heartbeat goes on while the job hangs
        within = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    assert (within.exit_code, within.output.splitlines()[0]) == (0, "up to date: 3 currencies through 2026-03-17")
    with minsk("2026-03-17 10:01"):
        daemon.save()
        past = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    since = days.stamp(daemon.job_since)
    assert since == {"catch-up": "2026-03-17T06:00:30Z", "poll": "2026-03-17T06:45:30Z"}[job]
    assert past.exit_code == 1
    assert past.output.splitlines()[0] == (f"stale: the daemon's {job} has run since {since}, past its deadline of"
                                           f" {minutes} minutes: it hangs")


def test_a_bank_poll_running_past_its_deadline_makes_status_stale(tmp_path, nbrb, bank, published):
    from support.banks import bank_section

    from ticker.store import health as rows

    config = make_config(tmp_path, nbrb, belarusbank=bank_section(bank))
    with minsk("2026-03-17 10:00"):
        daemon = started_daemon(config, published.append)
        daemon.catchup()
        daemon.bank("belarusbank")
        rows.job_write(config.database.path, "belarusbank", running_since="2026-03-17T06:44:00Z")
        result = CliRunner().invoke(cli, ["--config", str(config.file), "status"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == ("stale: the belarusbank poll has run since 2026-03-17T06:44:00Z, past"
                                             " its deadline of 15 minutes: it hangs")


def test_a_catch_up_past_its_deadline_stops_itself_keeping_what_it_stored(tmp_path, published, monkeypatch, caplog):
    from support.nbrb_data import synthetic_server

    from ticker.service import health

    monkeypatch.setitem(health.DEADLINES, "catch-up", 1)  # a second, for the test: an hour in the daemon
    with synthetic_server(until="2026-03-17") as nbrb, minsk("2026-03-17 10:00"):
        # Every answer complete and 0.4 s late: the deadline, not a fault, ends the catch-up.
        nbrb.script("/exrates/rates/dynamics/", *[("delay", 0.4)] * 100)
        config = make_config(tmp_path, nbrb, track={"currencies": TRACKED, "since": "2016-07-01"})
        daemon = started_daemon(config, published.append)
        with caplog.at_level(logging.INFO, logger="ticker"):
            daemon.catchup()
    row = daemon_row(config)
    assert row["job"] is None and row["job_since"] is None
    assert row["last_error"] == ("catch-up: Stopped at its deadline: the catch-up ran past its deadline of 0 minutes;"
                                 " what it stored is kept, the next run goes on")
    assert 0 < stored(config, "SELECT count(*) FROM rates")[0][0] < 3 * ((date(2026, 3, 17) - date(2016, 7, 1)).days + 1)
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ticker"][-2:] == [
        ("ERROR", f"catch-up failed: {row['last_error'].removeprefix('catch-up: ')}"),
        ("INFO", "catch-up: retrying in 60 s")]  # [schedule] retry: the next run goes on
