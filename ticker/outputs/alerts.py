"""Alerts: the [[alerts]] rules, evaluated on the stored rates after every batch of new ones.

What fires is recorded once in `alert_events` (one row per rule and day, whatever reruns or
restarts come later) with one row per target in `alert_deliveries`; every delivery not made yet
is made through Apprise, one log line each, and a failed one is tried again at the next run.

- A level fires when the rate crosses it: `above` when the day before was at or below it and the
  day is above it, `below` the other way; `move` when the rate differs from the day before's by
  at least the percentage. Only days in force today or later fire, so a backfill of history never
  floods anyone, and a day published ahead fires the day it is stored ("USD will be ...").
- `published` fires once for each run of days published together (Thursday's session publishes
  Friday to Sunday): the header line of the first new day and each currency's change.
- A bank rule (`bank = "sell"`, say) watches the best rate of that side in a city: it fires when
  the best rate of an answer seen today crosses the level against the answer before, at most once
  a day, on the bank's exact per-unit values.
- Rates are compared as exact decimals from `rate_text`, in BYN per 1 unit; never as REAL.

Apprise (and its plugins, a few hundred ms and about 13 MB) is imported only when something is
to be delivered; evaluating the rules needs only the standard library.
"""

import fcntl
import logging
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .. import days
from ..config import Alert
from ..errors import AlertError
from ..model import Rate, round_half_up
from ..store import reader
from . import line

log = logging.getLogger("ticker")

LOCK = ".alerts.lock"  # beside the database: one process delivers at a time
ORPHANED = "not sent: the target is no longer in the config"


@dataclass(frozen=True)
class Event:
    """What a rule fired on: a rate (`quote`, None for published) in force from `date` to `last_date`."""

    rule: Alert
    date: date
    last_date: date
    quote: Rate | None
    title: str
    message: str
    figure: tuple[int, str, str] | None = None  # a bank rate that fired: (scale, rate_text, unit)

    @property
    def recorded(self) -> tuple:
        """(scale, rate_text, unit) of the rate that fired, as `alert_events` keeps it; Nones for published."""
        q = self.quote
        return self.figure or ((q.scale, format(q.rate, "f"), q.unit) if q else (None, None, None))


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

    The daemon's hook after new rates, and the last step of `ticker fetch`. Each attempt is
    told to `say(delivery)` (default: its one log line). Raises AlertError when an attempt
    failed, after recording it: it is tried again at the next run.
    """
    if not config.alerts:
        return []
    path = config.database.path
    with _locked(path), closing(_connect(path)) as conn:
        try:
            record(conn, evaluate(conn, config, days.today()), config.alerts)
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


def _connect(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise AlertError(f"no database at {path}")
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def _locked(database: Path):
    """One deliverer at a time (the daemon, a person's `ticker fetch`): the other waits, then finds
    the deliveries made. The kernel frees the lock on any exit."""
    with open(Path(database).with_name(Path(database).name + LOCK), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# -- what fires -------------------------------------------------------------------------------


def evaluate(conn: sqlite3.Connection, config, today: date) -> list[Event]:
    """Every event the rules fire on among the rates in force `today` or later (recorded or not)."""
    events, seen = [], set()
    for rule in config.alerts:
        if rule.rule in seen:  # two tables with one rule fire one event, delivered to both
            continue
        seen.add(rule.rule)
        if rule.kind == "published":
            events += _published(conn, rule, today, config.line.currencies, config.line.precision)
        elif rule.side:
            events += _bank_crossings(conn, rule, today)
        else:
            events += _crossings(conn, rule, today)
    return events


def _bank_crossings(conn, rule: Alert, today: date) -> list[Event]:
    """The first answer seen today in which the city's best rate crossed the level, against the
    answer before it (the day's first against the day before's last)."""
    since = days.stamp(datetime.combine(today, time(), days.minsk()))
    answers = reader.bank_answers(conn, rule.code, rule.city, rule.side, since)
    for (_, was, _, _), (seen, now, text, scale) in zip(answers, answers[1:]):
        fired = was <= rule.level < now if rule.kind == "above" else was >= rule.level > now
        if fired and seen >= since:
            return [_bank_event(conn, rule, seen, text, scale, today)]
    return []


def _bank_event(conn, rule: Alert, seen: str, text: str, scale: int, today: date) -> Event:
    from .. import sources

    rates = reader.bank_rates(conn, rule.code, rule.city, seen)  # where, and the official rate beside it
    best = getattr(rates, rule.side)
    who = rule.code if scale == 1 else f"{scale} {rule.code}"
    verb = "buys" if rule.side == "buy" else "sells"
    per = "" if scale == 1 else f" per 1 {rule.code}"
    at = days.parse_stamp(seen).astimezone(days.minsk()).strftime("%H:%M")
    bank = ", ".join(sorted({sources.get(p.bank).short for p in best.points}))
    lines = [f"{bank} {verb} {who} at {text} BYN in {rule.city} from {at} Minsk time,"
             f" {rule.kind} {rule.level} BYN{per}"]
    first = best.points[0]
    more = f" and {len(best.points) - 1} more" if len(best.points) > 1 else ""
    lines.append(f"Best of {best.quoting} points: {first.address}: {first.label}, {first.hours}{more}")
    if rates.official:
        o = rates.official
        per_scale = "" if o.scale == 1 else f" per {o.scale}"
        lines.append(f"NBRB official rate on {_day(o.date)}: {o.rate} {o.unit}{per_scale}")
    title = f"{rule.code} best {rule.side} in {rule.city} {rule.kind} {rule.level} BYN"
    return Event(rule, today, today, None, title, "\n".join(lines), (scale, text, "BYN"))


def _crossings(conn, rule: Alert, today: date) -> list[Event]:
    rates = reader.rates_from(conn, rule.code, today)
    events = []
    for before, quote in zip(rates, rates[1:]):
        was, now = before.byn_per_unit, quote.byn_per_unit
        if rule.kind == "above":
            fired = was <= rule.level < now
        elif rule.kind == "below":
            fired = was >= rule.level > now
        else:  # move: |now - was| / was >= level %, without a division
            fired = abs(now - was) * 100 >= rule.level * was
        if fired and quote.date >= today:
            events.append(_rate_event(rule, quote, before, today))
    return events


def _rate_event(rule: Alert, quote: Rate, before: Rate, today: date) -> Event:
    item = line.Item(quote, before)  # the day before's rate in this quote's scale and unit
    pct = _percent(item)
    who = quote.code if quote.scale == 1 else f"{quote.scale} {quote.code}"
    verb = "is" if quote.date == today else "will be"
    sentence = f"{who} {verb} {quote.rate} {quote.unit} {_when(quote.date, today)}, {pct:+}%"
    if rule.kind == "move":
        title = f"{quote.code} moves {pct:+}%"
    else:
        per = "" if quote.scale == 1 else f" per 1 {quote.code}"
        title = f"{quote.code} {rule.kind} {rule.level} BYN"
        sentence += f", {rule.kind} {rule.level} BYN{per}"
    detail = (f"NBRB official rate in force on {_day(quote.date)}"
              f" (the day before, {before.date}: {item.previous_rate} {quote.unit})")
    return Event(rule, quote.date, quote.date, quote, title, f"{sentence}\n{detail}")


def _published(conn, rule: Alert, today: date, codes, precision: int) -> list[Event]:
    """The days published after today and after those the last `published` event announced."""
    last = reader.last_day(conn, codes)
    if last is None or last <= today:
        return []
    announced = conn.execute("SELECT max(last_date) FROM alert_events WHERE source = ? AND rule = ?",
                             [rule.source, rule.rule]).fetchone()[0]
    first = max(today, date.fromisoformat(announced) if announced else today) + timedelta(days=1)
    if first > last:
        return []
    header = line.text(line.items(conn, codes, first), precision)
    changes = []
    for code in codes:
        item = line.Item(reader.rate(conn, code, first), reader.rate(conn, code, first - timedelta(days=1)))
        q = item.quote
        who = q.code if q.scale == 1 else f"{q.scale} {q.code}"
        change = "unchanged" if item.change == 0 else f"{item.change:+} ({_percent(item):+}%)"
        changes.append(f"{who} {q.rate} {q.unit}, {change}")
    if first < last:
        span = f"{_day(first)} to {_day(last)}"
    else:
        span = f"tomorrow, {_day(first)}" if first == today + timedelta(days=1) else _day(first)
    title = f"NBRB rates for {span}"
    return [Event(rule, first, last, None, title, "\n".join([header, *changes]))]


def _percent(item: line.Item):
    return round_half_up(100 * item.change / item.previous_rate, 2)


def _when(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"on {_day(day)}"


def _day(day: date) -> str:
    return f"{day:%A} {day}"


# -- the record -------------------------------------------------------------------------------


def record(conn: sqlite3.Connection, events: list[Event], alerts) -> None:
    """Record the events not recorded yet, each with a delivery per target of its rule.

    A rule's targets are those of every table with that rule when it first fires: a target added
    later hears of later events only.
    """
    for event in events:
        with conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO alert_events (source, kind, rule, code, date, last_date, scale, rate_text,"
                " unit, title, message, fired_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [event.rule.source, event.rule.kind, event.rule.rule, event.rule.code, event.date.isoformat(),
                 event.last_date.isoformat(), *event.recorded, event.title, event.message, days.utcnow()],
            )
            if cursor.rowcount:
                conn.executemany(
                    "INSERT OR IGNORE INTO alert_deliveries (event_id, target) VALUES (?, ?)",
                    [(cursor.lastrowid, shown) for shown in _targets(alerts, event.rule.rule)],
                )


def _targets(alerts, rule: str) -> list[str]:
    from ..config import target

    return list(dict.fromkeys(target(url) for alert in alerts if alert.rule == rule for url in alert.notify))


# -- delivery ---------------------------------------------------------------------------------


def deliver(conn: sqlite3.Connection, alerts, say) -> list[Delivery]:
    """Make every delivery not made yet, oldest first, each committed as soon as it is made.

    A delivery to a target no longer in the config is left undelivered, marked so, and not tried.
    """
    pending = conn.execute(
        "SELECT d.event_id, d.target, d.attempts, e.rule, e.date, e.title, e.message"
        " FROM alert_deliveries AS d JOIN alert_events AS e ON e.id = d.event_id"
        " WHERE d.delivered_at IS NULL ORDER BY d.event_id, d.rowid"
    ).fetchall()
    if not pending:
        return []
    from ..config import target

    urls = {target(url): url for alert in alerts for url in alert.notify}
    done = []
    for row in pending:
        url = urls.get(row["target"])
        if url is None:
            with conn:
                conn.execute("UPDATE alert_deliveries SET error = ? WHERE event_id = ? AND target = ?",
                             [ORPHANED, row["event_id"], row["target"]])
            continue
        error = send(url, row["title"], row["message"])
        now = days.utcnow()
        with conn:
            conn.execute(
                "UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = ?, delivered_at = ?,"
                " error = ? WHERE event_id = ? AND target = ?",
                [now, None if error else now, error, row["event_id"], row["target"]],
            )
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
    from ..config import target

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


def recent(conn: sqlite3.Connection, limit: int) -> list[tuple[sqlite3.Row, list[sqlite3.Row]]]:
    """The last `limit` events, newest first, each with its deliveries; [] before any was recorded."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alert_events'").fetchone():
        return []
    events = conn.execute("SELECT * FROM alert_events ORDER BY id DESC LIMIT ?", [limit]).fetchall()
    return [(e, conn.execute("SELECT * FROM alert_deliveries WHERE event_id = ? ORDER BY rowid", [e["id"]]).fetchall())
            for e in events]


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
