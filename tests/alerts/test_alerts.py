"""Alerts end to end: rules on rates stored by the real sync code from the local NBRB fake,
delivered by Apprise to a real local HTTP server (json://) and a real SMTP server (mailto://).

The clock is pinned to Minsk times; rates after the recordings (from 2026-03-18) are made up.
"""

import logging
import sqlite3
import threading
from datetime import date

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.endpoints import Mailbox, Webhook
from support.nbrb_data import recorded_rates

from ticker import config as configuration
from ticker.cli import cli
from ticker.errors import AlertError
from ticker.alerts import delivery as alerts
from ticker.service.daemon import Daemon
from ticker.service.hooks import HOOKS
from ticker.service.hooks import load as load_hook
from ticker.sync.official import Sync

CUR_IDS = {"USD": 431, "EUR": 451, "RUB": 456}


def publish_day(nbrb, day: str, usd: str, eur: str, rub: str):
    """NBRB publishes the rates in force on `day` (made-up values after the recordings end)."""
    for code, text in zip(("USD", "EUR", "RUB"), (usd, eur, rub)):
        nbrb.add_rates(CUR_IDS[code], {day: text})


@pytest.fixture
def hook():
    with Webhook() as server:
        yield server


@pytest.fixture
def mailbox():
    with Mailbox() as server:
        yield server


def toml_list(*urls) -> str:
    return "[" + ", ".join(f'"{url}"' for url in urls) + "]"


def make_config(tmp_path, nbrb, *tables):
    return configuration.load(write_config(
        tmp_path, nbrb.url, track={"currencies": '["USD", "EUR", "RUB"]', "since": "2026-03-01"}, alerts=tables))


@pytest.fixture
def rules(tmp_path, nbrb, hook, mailbox):
    """One table of each kind; the recorded USD went 2.9332 -> 2.9463 on 2026-03-17, RUB 3.6972 -> 3.6709."""
    return make_config(
        tmp_path, nbrb,
        {"currency": '"USD"', "above": "2.94", "below": "2.90", "move_percent": "1.0",
         "notify": toml_list(hook.url("usd"), mailbox.url())},
        {"currency": '"RUB"', "below": "0.0366", "notify": toml_list(hook.url("rub"))},
        # USD moved 0.3% or more on six days of March: history, which must never fire.
        {"currency": '"USD"', "move_percent": "0.3", "notify": toml_list(hook.url("history"))},
        {"published": "true", "notify": toml_list(hook.url("published"), mailbox.url())},
    )


def rows(config, sql, *params):
    with sqlite3.connect(config.database.path) as conn:
        return conn.execute(sql, params).fetchall()


def by_path(hook, count):
    """The first `count` JSON messages, grouped by the hook path they were sent to."""
    grouped = {}
    for message in hook.wait(count):
        grouped.setdefault(message["path"], []).append((message["title"], message["message"]))
    return grouped


# -- each kind of event, delivered once ----------------------------------------------------------


def test_each_kind_fires_once_for_today_then_for_tomorrow_by_http_and_smtp(rules, nbrb, hook, mailbox):
    with minsk("2026-03-17 10:00"):
        Sync(rules).backfill(until=date(2026, 3, 17))
        done = alerts.run(rules)
    assert [(d.rule, d.date, d.error) for d in done] == [
        ("USD above 2.94", "2026-03-17", None), ("USD above 2.94", "2026-03-17", None),
        ("USD moves 0.3%", "2026-03-17", None)]
    today = "NBRB official rate in force on Tuesday 2026-03-17 (the day before, 2026-03-16: 2.9332 BYN)"
    assert by_path(hook, 2) == {
        "/usd": [("USD above 2.94 BYN", f"USD is 2.9463 BYN today, +0.45%, above 2.94 BYN\n{today}")],
        "/history": [("USD moves +0.45%", f"USD is 2.9463 BYN today, +0.45%\n{today}")],
    }
    mail = mailbox.wait(1)[0]
    assert (mail["Subject"], mail["From"], mail["To"]) == ("USD above 2.94 BYN", "ticker@example.org", "me@example.org")
    assert mail.get_content() == f"USD is 2.9463 BYN today, +0.45%, above 2.94 BYN\n{today}\n"
    assert mailbox.logins == [(mailbox.user, mailbox.password)]

    publish_day(nbrb, "2026-03-18", "2.9812", "3.3802", "3.6500")
    with minsk("2026-03-17 13:00"):
        Sync(rules).poll()
        alerts.run(rules)
    tomorrow = "NBRB official rate in force on Wednesday 2026-03-18 (the day before, 2026-03-17: {})"
    assert by_path(hook, 6) == {
        "/usd": [("USD above 2.94 BYN", f"USD is 2.9463 BYN today, +0.45%, above 2.94 BYN\n{today}"),
                 ("USD moves +1.18%", "USD will be 2.9812 BYN tomorrow, +1.18%\n" + tomorrow.format("2.9463 BYN"))],
        "/history": [("USD moves +0.45%", f"USD is 2.9463 BYN today, +0.45%\n{today}"),
                     ("USD moves +1.18%", "USD will be 2.9812 BYN tomorrow, +1.18%\n" + tomorrow.format("2.9463 BYN"))],
        "/rub": [("RUB below 0.0366 BYN", "100 RUB will be 3.6500 BYN tomorrow, -0.57%, below 0.0366 BYN per 1 RUB\n"
                  + tomorrow.format("3.6709 BYN"))],
        "/published": [("NBRB rates for tomorrow, Wednesday 2026-03-18",
                        "RUB 3.65 BYN ▼ · USD 2.98 BYN ▲ · EUR 3.38 BYN ▲\n"
                        "100 RUB 3.6500 BYN, -0.0209 (-0.57%)\n"
                        "USD 2.9812 BYN, +0.0349 (+1.18%)\n"
                        "EUR 3.3802 BYN, +0.0061 (+0.18%)")],
    }
    assert sorted(m["Subject"] for m in mailbox.wait(3)) == [
        "NBRB rates for tomorrow, Wednesday 2026-03-18", "USD above 2.94 BYN", "USD moves +1.18%"]

    # A rerun, the next day's catch-up and that day's poll (USD unchanged) fire nothing again,
    # nor does a level the rate stays beyond (USD above 2.94 on the 18th).
    with minsk("2026-03-17 13:20"):
        assert alerts.run(rules) == []
    with minsk("2026-03-18 00:10"):
        Sync(rules).fetch()
        assert alerts.run(rules) == []
    publish_day(nbrb, "2026-03-19", "2.9812", "3.3822", "3.6500")
    with minsk("2026-03-18 13:00"):
        Sync(rules).poll()
        assert [(d.rule, d.date) for d in alerts.run(rules)] == [("published", "2026-03-19")] * 2
    assert len(hook.received) == 7 and len(mailbox.received) == 4
    assert rows(rules, "SELECT kind, rule, code, date, last_date, scale, rate_text, unit FROM alert_events ORDER BY id") == [
        ("above", "USD above 2.94", "USD", "2026-03-17", "2026-03-17", 1, "2.9463", "BYN"),
        ("move", "USD moves 0.3%", "USD", "2026-03-17", "2026-03-17", 1, "2.9463", "BYN"),
        ("move", "USD moves 1.0%", "USD", "2026-03-18", "2026-03-18", 1, "2.9812", "BYN"),
        ("below", "RUB below 0.0366", "RUB", "2026-03-18", "2026-03-18", 100, "3.6500", "BYN"),
        ("move", "USD moves 0.3%", "USD", "2026-03-18", "2026-03-18", 1, "2.9812", "BYN"),
        ("published", "published", None, "2026-03-18", "2026-03-18", None, None, None),
        ("published", "published", None, "2026-03-19", "2026-03-19", None, None, None),
    ]
    assert rows(rules, "SELECT count(*), sum(attempts), count(delivered_at), count(error) FROM alert_deliveries") == [
        (11, 11, 11, 0)]


def test_a_crossing_both_ways_fires_each_level_once(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.95", "below": "2.95",
                                          "notify": toml_list(hook.url())})
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
    for day, usd, title in [("2026-03-18", "2.9500", None), ("2026-03-19", "2.9501", "USD above 2.95 BYN"),
                            ("2026-03-20", "2.9600", None), ("2026-03-21", "2.9499", "USD below 2.95 BYN"),
                            ("2026-03-22", "2.9499", None), ("2026-03-23", "2.9501", "USD above 2.95 BYN")]:
        publish_day(nbrb, day, usd, "3.3800", "3.6600")
        with minsk(f"{day} 00:30"):  # the day's own rate, in force today
            Sync(config).fetch()
            fired = [d.rule for d in alerts.run(config)]
        assert fired == ([title.removesuffix(" BYN")] if title else []), day
    assert [m["title"] for m in hook.wait(3)] == ["USD above 2.95 BYN", "USD below 2.95 BYN", "USD above 2.95 BYN"]
    assert rows(config, "SELECT rule, date FROM alert_events ORDER BY id") == [
        ("USD above 2.95", "2026-03-19"), ("USD below 2.95", "2026-03-21"), ("USD above 2.95", "2026-03-23")]


def test_thursdays_session_is_one_published_message_for_friday_to_sunday(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"published": "true", "notify": toml_list(hook.url())})
    publish_day(nbrb, "2026-03-18", "2.9501", "3.3802", "3.6655")
    publish_day(nbrb, "2026-03-19", "2.9534", "3.3811", "3.6601")
    with minsk("2026-03-19 10:00"):  # Thursday before the session: today's rate is the newest
        Sync(config).backfill(until=date(2026, 3, 19))
        assert alerts.run(config) == []
    for day in ("2026-03-20", "2026-03-21", "2026-03-22"):
        publish_day(nbrb, day, "2.9687", "3.3850", "3.6590")
    with minsk("2026-03-19 13:00"):
        Sync(config).poll()
        alerts.run(config)
    with minsk("2026-03-20 00:10"):  # Friday's catch-up: Saturday and Sunday were announced with Friday
        Sync(config).fetch()
        assert alerts.run(config) == []
    publish_day(nbrb, "2026-03-23", "2.9712", "3.3871", "3.6633")
    with minsk("2026-03-20 13:00"):
        Sync(config).poll()
        alerts.run(config)
    assert [(m["title"], m["message"]) for m in hook.wait(2)] == [
        ("NBRB rates for Friday 2026-03-20 to Sunday 2026-03-22",
         "RUB 3.66 BYN ▼ · USD 2.97 BYN ▲ · EUR 3.39 BYN ▲\n"
         "100 RUB 3.6590 BYN, -0.0011 (-0.03%)\nUSD 2.9687 BYN, +0.0153 (+0.52%)\nEUR 3.3850 BYN, +0.0039 (+0.12%)"),
        ("NBRB rates for Monday 2026-03-23",
         "RUB 3.66 BYN ▲ · USD 2.97 BYN ▲ · EUR 3.39 BYN ▲\n"
         "100 RUB 3.6633 BYN, +0.0043 (+0.12%)\nUSD 2.9712 BYN, +0.0025 (+0.08%)\nEUR 3.3871 BYN, +0.0021 (+0.06%)"),
    ]
    assert rows(config, "SELECT date, last_date FROM alert_events ORDER BY id") == [
        ("2026-03-20", "2026-03-22"), ("2026-03-23", "2026-03-23")]


def test_an_unchanged_rate_says_so_in_the_published_message(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"published": "true", "notify": toml_list(hook.url())})
    publish_day(nbrb, "2026-03-18", "2.9463", "3.3802", "3.6709")
    with minsk("2026-03-17 13:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        Sync(config).poll()
        alerts.run(config)
    assert hook.wait(1)[0]["message"].splitlines()[1:] == [
        "100 RUB 3.6709 BYN, unchanged", "USD 2.9463 BYN, unchanged", "EUR 3.3802 BYN, +0.0061 (+0.18%)"]


# -- delivered once: failures retried, restarts never re-send ----------------------------------


def test_a_failed_delivery_is_recorded_and_retried_at_the_next_run_only(tmp_path, nbrb, hook, mailbox):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94",
                                          "notify": toml_list(hook.url(), mailbox.url())})
    hook.fail(500)
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        with pytest.raises(AlertError) as failed:
            alerts.run(config)
    error = "Failed to send JSON POST notification: Internal server error., error=500."
    assert str(failed.value) == (f"Could not deliver an alert: 1 of 2 deliveries failed, tried again at the next run;"
                                 f" {hook.url()}: {error}")
    assert hook.received == [] and len(mailbox.wait(1)) == 1
    assert rows(config, "SELECT target, attempts, delivered_at IS NOT NULL, error FROM alert_deliveries ORDER BY rowid") == [
        (hook.url(), 1, 0, error), (f"mailto://ticker:****@127.0.0.1:{mailbox.port}/me%40example.org", 1, 1, None)]

    lines = []
    with minsk("2026-03-17 10:20"):
        done = alerts.run(config, say=lambda delivery: lines.append(delivery.line))
    assert [(d.target, d.attempts, d.error) for d in done] == [(hook.url(), 2, None)]
    assert lines == [f"alert USD above 2.94 for 2026-03-17: delivered to {hook.url()}"]
    assert [m["title"] for m in hook.wait(1)] == ["USD above 2.94 BYN"]
    assert len(mailbox.received) == 1  # the mail went out once
    assert rows(config, "SELECT attempts, error FROM alert_deliveries ORDER BY rowid") == [(2, None), (1, None)]


def test_a_delivery_whose_target_left_the_config_is_marked_and_not_tried(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "notify": toml_list(hook.url("old"))})
    hook.fail(500)
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        with pytest.raises(AlertError):
            alerts.run(config)
    moved = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "notify": toml_list(hook.url("new"))})
    with minsk("2026-03-17 10:20"):
        assert alerts.run(moved) == []
    assert hook.received == []
    assert rows(config, "SELECT target, attempts, delivered_at, error FROM alert_deliveries") == [
        (hook.url("old"), 1, None, "not sent: the target is no longer in the config")]


def test_the_daemon_delivers_after_new_rates_and_a_restart_never_sends_again(tmp_path, nbrb, hook, caplog):
    caplog.set_level(logging.INFO, "ticker")
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "notify": toml_list(hook.url())},
                         {"published": "true", "notify": toml_list(hook.url("published"))})
    hooks = [(what, load_hook(spec)) for what, spec in HOOKS if spec == "ticker.alerts.delivery:run"]
    assert hooks[0][0] == "the alerts"

    def start():
        Sync(config).store.close()
        daemon = Daemon(config, hooks=hooks)
        daemon.started()
        return daemon

    with minsk("2026-03-17 10:00"):
        start().catchup()
    assert [m["title"] for m in hook.wait(1)] == ["USD above 2.94 BYN"]
    assert f"alert USD above 2.94 for 2026-03-17: delivered to {hook.url()}" in caplog.messages
    assert caplog.messages[-1] == "refreshed the alerts"

    publish_day(nbrb, "2026-03-18", "2.9812", "3.3802", "3.6500")
    hook.fail(503)
    with minsk("2026-03-17 13:00"):
        daemon = start()
        daemon.poll()
    assert daemon.last_error[1] == (
        f"refresh: Could not deliver an alert: 1 of 1 deliveries failed, tried again at the next run;"
        f" {hook.url('published')}: Failed to send JSON POST notification: Servers are overloaded., error=503.")
    ours = [r for r in caplog.records if r.name == "ticker"]
    assert (ours[-2].levelname, ours[-2].getMessage()) == (
        "WARNING", f"alert published for 2026-03-18: not delivered to {hook.url('published')} (attempt 1, tried again"
                   " at the next run): Failed to send JSON POST notification: Servers are overloaded., error=503.")
    with minsk("2026-03-17 13:20"):  # a restart: the catch-up at start delivers what failed, and nothing else
        start().catchup()
    assert [m["title"] for m in hook.wait(2)] == ["USD above 2.94 BYN", "NBRB rates for tomorrow, Wednesday 2026-03-18"]
    with minsk("2026-03-18 00:07"):
        start().catchup()
    assert len(hook.received) == 2


def test_two_deliverers_at_once_the_daemon_and_a_fetch_send_each_message_once(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "move_percent": "0.3",
                                          "notify": toml_list(hook.url("a"), hook.url("b"))})
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        hook.delay = 0.2  # the first deliverer is still sending when the second one starts
        results = []
        runs = [threading.Thread(target=lambda: results.append(alerts.run(config))) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=30)
        assert not any(run.is_alive() for run in runs)
    assert sorted(len(done) for done in results) == [0, 4]  # the second waited, then found all delivered
    assert sorted((m["path"], m["title"]) for m in hook.wait(4)) == [
        ("/a", "USD above 2.94 BYN"), ("/a", "USD moves +0.45%"), ("/b", "USD above 2.94 BYN"), ("/b", "USD moves +0.45%")]
    assert len(hook.received) == 4


def test_secrets_in_notify_urls_reach_the_server_but_never_the_log_or_the_database(tmp_path, nbrb, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "notify": toml_list(mailbox.url())})
    with minsk("2026-03-17 10:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
        alerts.run(config)
    assert mailbox.logins == [("ticker", "s3cret-pw")]
    with sqlite3.connect(config.database.path) as conn:
        dump = "\n".join(conn.iterdump())
    assert "mailto://ticker:****@127.0.0.1" in dump
    assert "s3cret-pw" not in dump and "s3cret-pw" not in caplog.text


def test_a_bad_alert_on_sighup_keeps_the_running_config(tmp_path, nbrb, hook, caplog):
    config = make_config(tmp_path, nbrb, {"published": "true", "notify": toml_list(hook.url())})
    daemon = Daemon(config, hooks=[])
    path = config.file
    path.write_text(path.read_text().replace(hook.url(), "jsn://127.0.0.1/hook"))
    assert not daemon.reload(lambda: configuration.load(path))
    assert daemon.config is config
    assert caplog.messages[-1] == (f"SIGHUP: kept the running configuration: Bad configuration: {path}: "
                                   "[[alerts]] #1 notify: URL 1 (jsn://...): unknown Apprise scheme jsn://")


def test_without_rules_the_hook_does_nothing_and_loads_no_apprise(tmp_path, nbrb):
    config = make_config(tmp_path, nbrb)
    assert config.alerts == ()
    assert alerts.run(config) == []
    assert not (tmp_path / "rates.sqlite.alerts.lock").exists()


# -- the command line -------------------------------------------------------------------------


def ticker(*args, code=0):
    from click.testing import CliRunner

    from ticker.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_fetch_by_hand_delivers_and_ticker_alerts_lists_rules_and_events(tmp_path, nbrb, hook, mailbox):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "move_percent": "1.0",
                                          "notify": toml_list(hook.url(), mailbox.url())},
                         {"published": "true", "notify": toml_list(hook.url("published"))})
    file, mail = str(config.file), f"mailto://ticker:****@127.0.0.1:{mailbox.port}/me%40example.org"
    assert ticker("--config", file, "alerts").output == (
        f"Rules in {file}:\n"
        f"  #1  USD above 2.94        {hook.url()}, {mail}\n"
        f"  #1  USD moves 1.0%        {hook.url()}, {mail}\n"
        f"  #2  published             {hook.url('published')}\n"
        "No events yet.\n")
    with minsk("2026-03-17 10:00"):
        ticker("--config", file, "backfill")
        hook.fail(500)
        failed = ticker("--config", file, "fetch", code=1)
    error = "Failed to send JSON POST notification: Internal server error., error=500."
    assert failed.stdout == f"2026-03-17  nothing new\nalert USD above 2.94 for 2026-03-17: delivered to {mail}\n"
    assert failed.stderr == (
        f"alert USD above 2.94 for 2026-03-17: not delivered to {hook.url()} (attempt 1, tried again at the next run):"
        f" {error}\nError: Could not deliver an alert: 1 of 2 deliveries failed, tried again at the next run;"
        f" {hook.url()}: {error}\n")

    publish_day(nbrb, "2026-03-18", "2.9812", "3.3802", "3.6500")
    with minsk("2026-03-17 13:00"):
        out = ticker("--config", file, "fetch").stdout
    assert out.splitlines()[-4:] == [
        f"alert USD above 2.94 for 2026-03-17: delivered to {hook.url()}",
        f"alert USD moves 1.0% for 2026-03-18: delivered to {hook.url()}",
        f"alert USD moves 1.0% for 2026-03-18: delivered to {mail}",
        f"alert published for 2026-03-18: delivered to {hook.url('published')}",
    ]
    assert [m["title"] for m in hook.wait(3)] == [
        "USD above 2.94 BYN", "USD moves +1.18%", "NBRB rates for tomorrow, Wednesday 2026-03-18"]
    listed = ticker("--config", file, "alerts", "--limit", "2").output.splitlines()
    assert listed[4:] == [
        "Recent events, newest first:",
        "  2026-03-17T10:00:00Z  published  2026-03-18",
        f"      {hook.url('published')}  delivered 2026-03-17T10:00:00Z",
        "  2026-03-17T10:00:00Z  USD moves 1.0%  2026-03-18  USD = 2.9812 BYN",
        f"      {hook.url()}  delivered 2026-03-17T10:00:00Z",
        f"      {mail}  delivered 2026-03-17T10:00:00Z",
    ]
    assert "s3cret-pw" not in "\n".join(listed)


def test_ticker_alerts_lists_an_undelivered_event_with_its_attempts_and_error(tmp_path, nbrb, hook):
    config = make_config(tmp_path, nbrb, {"currency": '"RUB"', "below": "0.0368", "notify": toml_list(hook.url())})
    hook.fail(502, 502)
    with minsk("2026-03-17 10:00"):
        ticker("--config", str(config.file), "backfill")
        ticker("--config", str(config.file), "fetch", code=1)
        ticker("--config", str(config.file), "fetch", code=1)
        listed = ticker("--config", str(config.file), "alerts").output.splitlines()
    assert listed[2:] == [
        "Recent events, newest first:",
        "  2026-03-17T07:00:00Z  RUB below 0.0368  2026-03-17  100 RUB = 3.6709 BYN",
        f"      {hook.url()}  not delivered after 2 attempts: Failed to send JSON POST notification: error=502.",
    ]
    assert hook.received == []


def test_alerts_test_sends_one_message_to_each_target_and_exits_1_when_one_fails(tmp_path, nbrb, hook, mailbox):
    config = make_config(tmp_path, nbrb, {"currency": '"USD"', "above": "2.94", "below": "2.80",
                                          "notify": toml_list(hook.url(), mailbox.url())},
                         {"published": "true", "notify": toml_list(hook.url())})
    mail = f"mailto://ticker:****@127.0.0.1:{mailbox.port}/me%40example.org"
    out = ticker("--config", str(config.file), "alerts", "--test").output
    assert out == f"{hook.url()}  delivered\n{mail}  delivered\n"
    body = f"A test message from ticker ({config.file}). It will tell you here: USD above 2.94, USD below 2.80"
    assert hook.wait(1) == [{"path": "/hook", "version": "1.0", "title": "ticker: test message",
                             "message": f"{body}, published.", "attachments": [], "type": "info"}]
    sent = mailbox.wait(1)[0]
    assert (sent["Subject"], sent.get_content()) == ("ticker: test message", f"{body}.\n")

    hook.fail(500)
    failed = ticker("--config", str(config.file), "alerts", "--test", code=1)
    assert failed.stdout == (f"{hook.url()}  failed: Failed to send JSON POST notification: Internal server error.,"
                             f" error=500.\n{mail}  delivered\n")
    assert failed.stderr == "Error: Could not deliver an alert: 1 of 2 test messages failed\n"
    assert not (tmp_path / "rates.sqlite").exists()  # a test records nothing


def test_ticker_alerts_without_rules_says_where_to_add_them(tmp_path, nbrb):
    config = make_config(tmp_path, nbrb)
    assert ticker("--config", str(config.file), "alerts", "--test").output == (
        f"No alerts in {config.file}: add [[alerts]] tables (README: Alerts).\n")


# -- rules on a city's best bank rate -----------------------------------------------------------


def bank_rules(tmp_path, nbrb, bank, hook):
    from support.banks import bank_section

    return configuration.load(write_config(
        tmp_path, nbrb.url, track={"currencies": '["USD", "EUR", "RUB"]', "since": "2026-03-01"},
        belarusbank=bank_section(bank),
        alerts=[{"currency": '"USD"', "bank": '"sell"', "below": "2.07", "notify": toml_list(hook.url("sell"))},
                {"currency": '"USD"', "bank": '"buy"', "city": '"минск"', "above": "2.06",
                 "notify": toml_list(hook.url("buy"))}]))


def test_a_bank_rule_fires_once_when_the_best_rate_crosses_and_a_failed_delivery_is_retried(tmp_path, nbrb, bank,
                                                                                           hook):
    from support.banks import answer, best_in, history

    from ticker.sync import banks as bank_sync

    config = bank_rules(tmp_path, nbrb, bank, hook)
    with minsk("2026-03-10 11:00"):
        Sync(config).backfill(until=date(2026, 3, 17))
    answers = history()
    best = [(at, best_in(points, "Минск", "USD_in"), best_in(points, "Минск", "USD_out")) for at, points in answers]
    # The best buy crosses above 2.06 at 10:00 on the 12th; the best sell falls below 2.07 at 09:00 on the 17th.
    assert [(at, str(buy), str(sell)) for at, buy, sell in best] == [
        ("2026-03-10 12:00", "2.0550", "2.0680"), ("2026-03-12 10:00", "2.0650", "2.0780"),
        ("2026-03-12 16:00", "2.0750", "2.0880"), ("2026-03-17 09:00", "2.0550", "2.0680"),
        ("2026-03-17 12:00", "2.0550", "2.0600")]
    done = []
    for at, points in answers:
        answer(bank, points)
        if at == "2026-03-17 09:00":
            hook.fail(500)  # the webhook is down for the first attempt of the sell rule's event
        with minsk(at):
            bank_sync.poll(config)
            try:
                done.append((at, [(d.rule, d.date, d.attempts, d.error is None) for d in alerts.run(config)]))
            except AlertError as exc:
                done.append((at, str(exc)))
    # The first answer ever has nothing to cross from; an HTTP error's wording is Apprise's.
    assert [step[0] for step in done] == [at for at, _ in answers]
    assert done[0][1] == [] and done[2][1] == []
    assert done[1][1] == [("USD best buy in минск above 2.06", "2026-03-12", 1, True)]
    assert done[3][1].startswith("Could not deliver an alert: 1 of 1 deliveries failed, tried again at the next run;"
                                 f" json://127.0.0.1:{hook.port}/sell: ")
    assert done[4][1] == [("USD best sell in Минск below 2.07", "2026-03-17", 2, True)]
    official = {day: text for (cur_id, day), (_, _, text) in recorded_rates().items() if cur_id == CUR_IDS["USD"]}
    assert by_path(hook, 2) == {
        "/buy": [("USD best buy in минск above 2.06 BYN",
                  "Belarusbank buys USD at 2.0650 BYN in минск from 10:00 Minsk time, above 2.06 BYN\n"
                  "Best of 165 points: пр. Дзержинского 18: Головной офис 795, Пн-Пт 09:00-19:00 and 1 more\n"
                  f"NBRB official rate on Thursday 2026-03-12: {official['2026-03-12']} BYN")],
        "/sell": [("USD best sell in Минск below 2.07 BYN",
                   "Belarusbank sells USD at 2.0680 BYN in Минск from 09:00 Minsk time, below 2.07 BYN\n"
                   "Best of 165 points: пр. Дзержинского 18: Головной офис 795, Пн-Пт 09:00-19:00 and 1 more\n"
                   f"NBRB official rate on Tuesday 2026-03-17: {official['2026-03-17']} BYN")],
    }
    assert rows(config, "SELECT source, kind, rule, code, date, scale, rate_text, unit FROM alert_events ORDER BY id") == [
        ("banks", "above", "USD best buy in минск above 2.06", "USD", "2026-03-12", 1, "2.0650", "BYN"),
        ("banks", "below", "USD best sell in Минск below 2.07", "USD", "2026-03-17", 1, "2.0680", "BYN")]
    with minsk("2026-03-17 12:30"):
        assert alerts.run(config) == []  # delivered once: a rerun sends nothing


def test_bank_fetch_delivers_a_bank_rule_as_fetch_does(tmp_path, nbrb, bank, hook):
    from support.banks import answer, history

    config = bank_rules(tmp_path, nbrb, bank, hook)
    with minsk("2026-03-12 09:00"):
        Sync(config).backfill(until=date(2026, 3, 12))
    for at, points in history()[:2]:
        answer(bank, points)
        with minsk(at):
            result = CliRunner().invoke(cli, ["--config", str(config.file), "bank-fetch"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (f"alert USD best buy in минск above 2.06 for 2026-03-12: delivered to"
                                              f" json://127.0.0.1:{hook.port}/buy")
    assert [title for title, _ in by_path(hook, 1)["/buy"]] == ["USD best buy in минск above 2.06 BYN"]
