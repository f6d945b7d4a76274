"""What the [[alerts]] rules fire on, evaluated on the stored rates after every batch of new ones.

- A level fires when the rate crosses it: `above` when the day before was at or below it and the
  day is above it, `below` the other way; `move` when the rate differs from the day before's by
  at least the percentage. Only days in force today or later fire, so a backfill of history never
  floods anyone, and a day published ahead fires the day it is stored ("USD will be ...").
- `published` fires once for each run of days published together (Thursday's session publishes
  Friday to Sunday): the header line of the first new day and each currency's change.
- A bank rule (`bank = "sell"`, say) watches the best rate of that side in a city across the banks
  (the message names the bank and the point offering it): it fires when the best rate after an
  answer seen today crosses the level, against the best before it, at most once a day, on the banks'
  exact per-unit values.
- Rates are compared as exact decimals from `rate_text`, in BYN per 1 unit; never as REAL.

Reading only: `delivery` records what fires and delivers it.
"""

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from .. import days
from ..model import Rate, round_half_up
from ..outputs import hints, line
from ..outputs.banks import place
from ..store import alerts as stored
from ..store import reader
from .rules import Alert


@dataclass(frozen=True)
class Event:
    """What a rule fired on: a rate (`rate`, None for published) in force from `date` to `last_date`."""

    rule: Alert
    date: date
    last_date: date
    rate: Rate | None
    title: str
    message: str
    figure: tuple[int, str, str] | None = None  # a bank rate that fired: (scale, rate_text, unit)

    @property
    def recorded(self) -> tuple:
        """(scale, rate_text, unit) of the rate that fired, as `alert_events` keeps it; Nones for published."""
        q = self.rate
        return self.figure or ((q.scale, format(q.rate, "f"), q.unit) if q else (None, None, None))


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
    since = days.stamp(days.minsk_midnight(today))
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
    # Whose point it is, when the city's points are of several banks.
    whose = f"{sources.get(first.bank).short}, " if len(rates.banks) > 1 else ""
    lines.append(f"Best of {best.quoting} points: {whose}{place(first)}{more}")
    if rates.official:
        o = rates.official
        per_scale = "" if o.scale == 1 else f" per {o.scale}"
        lines.append(f"NBRB official rate on {_day(o.date)}: {o.rate} {o.unit}{per_scale}")
    title = f"{rule.code} best {rule.side} in {rule.city} {rule.kind} {rule.level} BYN"
    return Event(rule, today, today, None, title, "\n".join(lines), (scale, text, "BYN"))


def _crossings(conn, rule: Alert, today: date) -> list[Event]:
    rates = reader.rates_from(conn, rule.code, today)
    events = []
    for before, rate in zip(rates, rates[1:]):
        was, now = before.byn_per_unit, rate.byn_per_unit
        if rule.kind == "above":
            fired = was <= rule.level < now
        elif rule.kind == "below":
            fired = was >= rule.level > now
        else:  # move: |now - was| / was >= level %, without a division
            fired = abs(now - was) * 100 >= rule.level * was
        if fired and rate.date >= today:
            events.append(_rate_event(rule, rate, before, today))
    return events


def _rate_event(rule: Alert, rate: Rate, before: Rate, today: date) -> Event:
    item = line.Item(rate, before)  # the day before's rate in this rate's scale and unit
    pct = _percent(item)
    who = rate.code if rate.scale == 1 else f"{rate.scale} {rate.code}"
    verb = "is" if rate.date == today else "will be"
    sentence = f"{who} {verb} {rate.rate} {rate.unit} {_when(rate.date, today)}, {pct:+}%"
    if rule.kind == "move":
        title = f"{rate.code} moves {pct:+}%"
    else:
        per = "" if rate.scale == 1 else f" per 1 {rate.code}"
        title = f"{rate.code} {rule.kind} {rule.level} BYN"
        sentence += f", {rule.kind} {rule.level} BYN{per}"
    detail = (f"NBRB official rate in force on {_day(rate.date)}"
              f" (the day before, {before.date}: {item.previous_rate} {rate.unit})")
    return Event(rule, rate.date, rate.date, rate, title, f"{sentence}\n{detail}")


def _published(conn, rule: Alert, today: date, codes, precision: int) -> list[Event]:
    """The days published after today and after those the last `published` event announced."""
    last = reader.last_day(conn, codes)
    if last is None or last <= today:
        return []
    announced = stored.last_announced(conn, rule.source, rule.rule)
    first = max(today, announced or today) + timedelta(days=1)
    if first > last:
        return []
    header = line.text(line.items(conn, codes, first), precision)
    changes = []
    for code in codes:
        item = line.Item(hints.rate(conn, code, first), hints.rate(conn, code, first - timedelta(days=1)))
        q = item.current
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
