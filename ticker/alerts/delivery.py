"""Delivering what the [[alerts]] rules fire on: each event recorded once, each delivery made once.

What fires is recorded in `alert_events` (one row per rule and day, whatever reruns or restarts
come later) with one row per target in `alert_deliveries`; every delivery not made yet is made
through Apprise, one log line each, and a failed one is tried again at the next run.

Apprise (and its plugins, a few hundred ms and about 13 MB) is imported only when something is
to be delivered; evaluating the rules needs only the standard library.
"""

import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .. import days, files
from ..errors import AlertError
from ..store import alerts as stored
from . import firing
from .rules import target

log = logging.getLogger("ticker")

LOCK = ".alerts.lock"  # beside the database: one process delivers at a time
ORPHANED = "not sent: the target is no longer in the config"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event to one target (masked), and its error if it failed."""

    rule: str
    date: str
    target: str
    attempts: int
    error: str | None

    @property
    def line(self) -> str:
        """The one log line of this attempt."""
        what = f"alert {self.rule} for {self.date}"
        if self.error is None:
            return f"{what}: delivered to {self.target}"
        return (f"{what}: not delivered to {self.target} (attempt {self.attempts}, tried again at the next run):"
                f" {self.error}")


# -- the hook ---------------------------------------------------------------------------------


def run(config, say=None) -> list[Delivery]:
    """Record what the rules fire on and deliver every delivery not made yet.

    The daemon's hook after new rates, and the last step of `ticker fetch` and `ticker bank-fetch`.
    Each attempt is told to `say(delivery)` (default: its one log line). Raises AlertError when an
    attempt failed, after recording it: it is tried again at the next run.
    """
    if not config.alerts:
        return []
    from ..store.schema import open_db

    path = config.database.path
    if not Path(path).is_file():
        raise AlertError(f"no database at {path}")
    # One deliverer at a time (the daemon, a person's `ticker fetch`): the other waits, then finds
    # the deliveries made.
    with files.locked(Path(path).with_name(Path(path).name + LOCK)), closing(open_db(path)) as db:
        conn = db.conn
        conn.row_factory = sqlite3.Row
        try:
            record(conn, firing.evaluate(conn, config, days.today()), config.alerts)
        finally:  # what earlier runs left undelivered goes out even if this run's rules failed
            done = deliver(conn, config.alerts, say or _log)
    failed = [d for d in done if d.error]
    if failed:
        first = failed[0]
        raise AlertError(f"{len(failed)} of {len(done)} deliveries failed, tried again at the next run;"
                         f" {first.target}: {first.error}")
    return done


def _log(delivery: Delivery) -> None:
    log.log(logging.WARNING if delivery.error else logging.INFO, "%s", delivery.line)


def record(conn: sqlite3.Connection, events: list[firing.Event], alerts) -> None:
    """Record the events not recorded yet, each with a delivery per target of its rule.

    A rule's targets are those of every table with that rule when it first fires: a target added
    later hears of later events only.
    """
    for event in events:
        rule = event.rule
        targets = list(dict.fromkeys(target(url) for alert in alerts if alert.rule == rule.rule for url in alert.notify))
        stored.record(conn, rule.source, rule.kind, rule.rule, rule.code, event.date, event.last_date, event.recorded,
                      event.title, event.message, targets)


def deliver(conn: sqlite3.Connection, alerts, say) -> list[Delivery]:
    """Make every delivery not made yet, oldest first, each committed as soon as it is made.

    A delivery to a target no longer in the config is left undelivered, marked so, and not tried.
    """
    pending = stored.pending(conn)
    if not pending:
        return []
    urls = {target(url): url for alert in alerts for url in alert.notify}
    done = []
    for row in pending:
        url = urls.get(row["target"])
        if url is None:
            stored.set_aside(conn, row["event_id"], row["target"], ORPHANED)
            continue
        error = send(url, row["title"], row["message"])
        stored.attempted(conn, row["event_id"], row["target"], error)
        done.append(Delivery(row["rule"], row["date"], row["target"], row["attempts"] + 1, error))
        say(done[-1])
    return done


def send(url: str, title: str, body: str) -> str | None:
    """Deliver one message to one Apprise URL; None, or why it failed in one line (Apprise's warnings)."""
    import apprise

    quiet = logging.getLogger(apprise.LOGGER_NAME)
    quiet.propagate = False  # its lines reach us in the result; ours are the one line per delivery
    sender = apprise.Apprise()
    if not sender.add(url):
        return "Apprise cannot use this URL"
    # Plain text, newlines kept: by default Apprise reads a body as HTML and e-mail loses the lines.
    result = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    if result:
        return None
    reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    return "; ".join(dict.fromkeys(reasons)) or f"Apprise reported {result.status.name}"


def send_test(config, say) -> list[Delivery]:
    """Send a test message to every target of every rule; `say` each outcome. Records nothing."""
    targets: dict[str, tuple[str, list[str]]] = {}  # shown -> (URL, the rules it hears of)
    for alert in config.alerts:
        for url in alert.notify:
            rules = targets.setdefault(target(url), (url, []))[1]
            rules += [] if alert.rule in rules else [alert.rule]
    done = []
    for shown, (url, rules) in targets.items():
        body = (f"A test message from ticker ({config.file or 'the default configuration'}). "
                f"It will tell you here: {', '.join(rules)}.")
        error = send(url, "ticker: test message", body)
        done.append(Delivery("test", days.today().isoformat(), shown, 1, error))
        say(done[-1])
    return done


# -- what happened ----------------------------------------------------------------------------


def described(events) -> list[str]:
    """`ticker alerts`' lines for `recent` events: each event, then each delivery's state."""
    lines = []
    for event, deliveries in events:
        span = event["date"] + (f"..{event['last_date']}" if event["last_date"] != event["date"] else "")
        rate = ""
        if event["rate_text"]:
            scale = "" if event["scale"] == 1 else f"{event['scale']} "
            rate = f"  {scale}{event['code']} = {event['rate_text']} {event['unit']}"
        lines.append(f"  {event['fired_at']}  {event['rule']}  {span}{rate}")
        for d in deliveries:
            if d["delivered_at"]:
                state = f"delivered {d['delivered_at']}"
            elif d["attempts"]:
                tries = f"{d['attempts']} attempt" + ("s" if d["attempts"] > 1 else "")
                state = f"not delivered after {tries}: {d['error']}"
            else:
                state = d["error"] or "not delivered yet"
            lines.append(f"      {d['target']}  {state}")
    return lines
