"""Alerts: what they cost the read-only commands (nothing), the hook with nothing to send, a delivery
through Apprise beside the bare protocol call, and the daemon's memory with [[alerts]] configured.

Deliveries go to real local endpoints: an HTTP server (json://) and an SMTP server (mailto://).
"""

import json
import smtplib
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import common
from bench_daemon import daemon_rss, refreshed
from support.endpoints import Mailbox, Webhook

from ticker import config as configuration
from ticker import days
from ticker.model import Rate
from ticker.store.writer import Store

TICKER = str(Path(sys.executable).with_name("ticker"))
YEARS = 10
RULES = """
[[alerts]]
currency = "USD"
above = 9.50
below = 0.50
move_percent = 5.0
notify = ["{hook}"]

[[alerts]]
currency = "RUB"
below = 0.001
notify = ["{hook}"]

[[alerts]]
published = true
notify = ["{hook}"]
"""


def _database(folder: Path, today: date) -> Path:
    """RUB, USD and EUR for ten years up to `today`, a slow made-up walk that never fires the rules."""
    store = Store(folder / "rates.sqlite")
    first = today - timedelta(days=365 * YEARS)
    rates = [Rate(code, first + timedelta(days=n), scale, Decimal(base) + Decimal(n % 97) / 10000, "BYN", cur_id)
             for code, scale, base, cur_id in (("USD", 1, "2.9000", 431), ("EUR", 1, "3.3000", 451),
                                              ("RUB", 100, "3.6000", 456))
             for n in range((today - first).days + 1)]
    with store.attempt("bench", "alerts") as attempt:
        store.write(rates, attempt)
    store.close()
    return folder / "rates.sqlite"


def _config(folder: Path, rules: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[database]\npath = "rates.sqlite"\n\n[track]\ncurrencies = ["USD", "EUR", "RUB"]\n{rules}',
                    encoding="utf-8")
    return path


def _hook_vs_header_line(folder: Path, today: date) -> tuple[float, float]:
    """One run of the alerts hook with five rules and nothing to fire, beside the header line's
    rendering from the same database (both open their own connection)."""
    from ticker.alerts import delivery as alerts
    from ticker.outputs import tickerfiles
    from ticker.store import reader

    config = configuration.load(folder / "config.toml")

    def header():
        conn = reader.connect(config.database.path)
        tickerfiles.render(conn, config.line.currencies, today, 2)
        conn.close()

    def hook():
        assert alerts.run(config) == []

    hook()  # warm: the first run opens files and compiles statements
    return common.median_ms(hook, 200), common.median_ms(header, 200)


def _deliveries(hook: Webhook, box: Mailbox, runs: int = 40) -> dict[str, float]:
    """Median ms per message: Apprise's json:// and mailto:// beside requests.post and smtplib."""
    import requests

    from ticker.alerts.delivery import send

    title, body = "USD above 3.00 BYN", "USD will be 3.0012 BYN tomorrow, +1.23%, above 3.00 BYN"
    payload = {"version": "1.0", "title": title, "message": body, "attachments": [], "type": "info"}

    def bare_mail():
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = title, "ticker@example.org", "me@example.org"
        message.set_content(body)
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as smtp:
            smtp.login(box.user, box.password)
            smtp.send_message(message)

    send(hook.url(), title, body)  # Apprise's import and plugins, measured elsewhere
    jobs = {
        "apprise json": lambda: send(hook.url(), title, body) is None or sys.exit("json delivery failed"),
        "requests.post": lambda: requests.post(f"http://127.0.0.1:{hook.port}/hook", json=payload, timeout=10),
        "apprise mailto": lambda: send(box.url(), title, body) is None or sys.exit("mail delivery failed"),
        "smtplib": bare_mail,
    }
    times = {name: [] for name in jobs}
    for _ in range(runs):  # interleaved: machine noise hits all alike
        for name, job in jobs.items():
            started = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def _daemons(folder: Path, hook: Webhook) -> tuple[float, float]:
    """Two `ticker run` on the same recent data, with and without [[alerts]] (one of which fires)."""
    from bench_daemon import config_file
    from support.nbrb_data import synthetic_server

    today = days.today()
    since = today - timedelta(days=60)
    figures = {}
    with synthetic_server(codes=30, since=since.isoformat(), until=(today + timedelta(days=1)).isoformat()) as server:
        # Each waits for its own last start-up line: without rules, the alerts hook does not run.
        for name, rules, after in (
                ("with", f'\n[[alerts]]\npublished = true\nnotify = ["{hook.url()}"]\n', refreshed(-1)),
                ("without", "", refreshed(0))):
            (folder / name).mkdir()
            path = config_file(folder / name, server.url, since)
            path.write_text(path.read_text() + rules)
            figures[name] = daemon_rss(path, after=after)
    assert len(hook.received) == 1, hook.received  # the daemon with alerts did deliver
    return figures["with"], figures["without"]


def run() -> list[common.Row]:
    rows = []
    today = days.today()
    with tempfile.TemporaryDirectory() as tmp, Webhook() as hook, Mailbox() as box:
        folder = Path(tmp)
        for name in ("plain", "alerts", "daemons"):
            (folder / name).mkdir()
        for name, rules in (("plain", ""), ("alerts", RULES.format(hook=hook.url()))):
            _database(folder / name, today)
            _config(folder / name, rules)
        day = ["--date", today.isoformat()]
        cold = common.interleaved_medians({
            "rate, alerts": [TICKER, "--config", str(folder / "alerts" / "config.toml"), "rate", "USD", *day],
            "rate": [TICKER, "--config", str(folder / "plain" / "config.toml"), "rate", "USD", *day],
            "alerts": [TICKER, "--config", str(folder / "alerts" / "config.toml"), "alerts"],
        }, runs=31)  # the two differ by well under 1 ms; fewer runs let noise decide the 1.1
        rows.append(common.ratio_row("cold `ticker rate`, config with [[alerts]]", cold["rate, alerts"] * 1000,
                                     "the same without [[alerts]]", cold["rate"] * 1000, "ms", at_most=1.1))
        rows.append(common.Row("cold `ticker alerts` (Apprise checks the URLs)", cold["alerts"] * 1000,
                               "cold `ticker rate`, same config", cold["rate, alerts"] * 1000, "ms", "reference", True))
        hook_ms, header_ms = _hook_vs_header_line(folder / "alerts", today)
        rows.append(common.ratio_row(f"alerts hook, 5 rules, {YEARS} years stored, none fires", hook_ms,
                                     "the header line from the same database", header_ms, "ms", at_most=3))
        sent = _deliveries(hook, box)
        rows.append(common.Row("one alert by Apprise json:// (local HTTP)", sent["apprise json"],
                               "requests.post of the same JSON", sent["requests.post"], "ms", "reference", True))
        rows.append(common.Row("one alert by Apprise mailto:// (local SMTP)", sent["apprise mailto"],
                               "smtplib login + send_message", sent["smtplib"], "ms", "reference", True))
        with Webhook() as fresh:
            with_alerts, without = _daemons(folder / "daemons", fresh)
        rows.append(common.Row("daemon RSS after start-up, with [[alerts]]", with_alerts,
                               "the same without [[alerts]]", without, "MB", "reference", True))
    return rows


if __name__ == "__main__":
    print(json.dumps([row.__dict__ for row in run()], indent=2))
