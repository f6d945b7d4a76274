"""Writing banks' buy and sell rates: one transaction per answer, a row only when a point's rates change.

Each distinct value is stored once (`bank_values`), each distinct rate set once (`bank_sets` and
`bank_set_values`), and `bank_point_sets` says which set each point quoted from which answer to
which. After each stored answer, the open rows (`last_poll IS NULL`) are exactly what that answer
quoted and what was accepted: a point whose rates changed ends its row at the answer before and
starts one with its new set; a point that quotes nothing now (every value zero, refused, gone from
the answer, outside the cities kept) starts a row with no set, so a point's rows follow each other
without a gap from its first answer on.
"""

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import date, timedelta
from decimal import Decimal

from ..days import utcnow
from ..errors import Superseded
from ..model import BASE, BankRate, Point, Rate, per_unit_e16
from .schema import immediate, logged


@dataclass
class Poll:
    """One row of `bank_polls` while it runs, and what the write did."""

    id: int
    bank: str
    points: int = 0
    rates: int = 0  # the rates stored (the `quotes` column)
    changed: int = 0  # values new or changed at a point since the answer before
    ended: int = 0  # values a point quoted in the answer before and no longer does
    refused: list[str] = field(default_factory=list)  # one line each
    seen_at: str | None = None  # UTC stamp of the answer stored


@contextmanager
def polling(db, bank: str):
    """Record one poll of `bank` in `bank_polls`, committed before and after the work (schema.logged);
    the row's finished_at is the stored answer's time."""
    poll = Poll(0, bank)
    def counts() -> dict:
        return {"points": poll.points, "quotes": poll.rates, "changed": poll.changed, "ended": poll.ended,
                "refused": len(poll.refused), **({"finished_at": poll.seen_at} if poll.seen_at else {})}

    with logged(db, "bank_polls", {"bank": bank}, counts) as row:
        poll.id = row
        yield poll


def official(db, codes, day: date, lookback: int) -> dict[str, Rate]:
    """NBRB's official rate of each code in force on `day`, or failing that the last stored in the
    `lookback` days before; codes without one are left out."""
    found = {}
    for code in codes:
        row = db.execute(
            "SELECT code, date, scale, rate_text, unit, cur_id FROM rates"
            " WHERE code = ? AND date BETWEEN ? AND ? ORDER BY date DESC LIMIT 1",
            [code, (day - timedelta(days=lookback)).isoformat(), day.isoformat()],
        ).fetchone()
        if row:
            found[code] = Rate(row[0], date.fromisoformat(row[1]), row[2], Decimal(row[3]), row[4], row[5])
    return found


def write(db, poll: Poll, points: list[Point], rates: list[BankRate]) -> None:
    """Store one answer of `poll.bank` in one transaction; counts go into `poll`.

    Every quote needs its scale. Points are updated when their details change; a point whose
    rates changed (or that stopped quoting) ends its row in `bank_point_sets` at the answer
    before and starts one with the set it quotes now, stored once however many points quote it.
    Raises Superseded, storing nothing, when an answer of a later poll was stored meanwhile.
    """
    now = utcnow()
    with immediate(db):
        previous = db.execute("SELECT max(id) FROM bank_polls WHERE bank = ? AND status = 'ok'",
                              [poll.bank]).fetchone()[0]
        if previous is not None and previous > poll.id:
            raise Superseded(f"{poll.bank}: the answer to poll {poll.id} is older than poll {previous}'s, "
                             "stored while it ran")
        number = _points(db, poll.bank, points, now)
        current = _quoting(db, poll.bank)
        listed = {number[p.id] for p in points}
        by_point: dict[int, list[BankRate]] = {n: [] for n in listed}
        for q in rates:
            by_point[number[q.point]].append(q)
        sets = _Sets(db)
        starts, ends = [], []
        for point, point_rates in by_point.items():
            was = current.get(point)
            keys = {_key(q): q for q in point_rates}
            effective_at = point_rates[0].effective_at if point_rates else None
            old = was.values if was else {}
            if (was and (was.rate_set is None) == (not keys) and old.keys() == keys.keys()
                    and was.effective_at == effective_at):
                continue  # the same rates as before (a value's `checked` stays as first stored)
            sides = {key[:3] for key in old}  # (code, against, side) quoted before
            poll.changed += sum(1 for key in keys if key not in old)
            poll.ended += len(sides - {key[:3] for key in keys})
            # An unchanged value keeps its row (and so its runs in bank_history) even in a new set.
            ids = [old.get(key) or sets.value(q) for key, q in keys.items()]
            starts.append((point, poll.id, sets.find(effective_at, ids) if ids else None))
            if was:
                ends.append((previous, point, was.first_poll))
        # Points listed before and not now (gone, refused, or outside the cities kept): they quote nothing.
        for point, (first_poll, rate_set, old, _) in current.items():
            if point not in listed and rate_set is not None:
                poll.ended += len(old)
                starts.append((point, poll.id, None))
                ends.append((previous, point, first_poll))
        db.conn.executemany("UPDATE bank_point_sets SET last_poll = ? WHERE point = ? AND first_poll = ?", ends)
        db.conn.executemany("INSERT INTO bank_point_sets (point, first_poll, rate_set) VALUES (?, ?, ?)", starts)
        db.execute("UPDATE bank_polls SET status = 'ok', finished_at = ? WHERE id = ?", [now, poll.id])
    poll.points, poll.rates, poll.seen_at = len(points), len(rates), now


def _text(value) -> str:
    return "" if value is None else format(value, "f")


def _key(q: BankRate) -> tuple:
    """What makes a value the same value: everything but whether its scale could be checked (the
    order of bank_values' columns: code, against, side, scale, rate_text, channel, min_amount,
    max_amount, per)."""
    return (q.code, q.against, q.side, q.scale, format(q.rate, "f"), q.channel or "", _text(q.min_amount),
            _text(q.max_amount), q.per or "")


def _points(db, bank: str, points: list[Point], now: str) -> dict[str, int]:
    """Insert new points, update changed ones and every listed one's last_seen; point_id -> bank_points.id."""
    known = {row[1]: row for row in db.execute(
        "SELECT id, point_id, city, city_type, address, label, hours, hours_text, latitude, longitude"
        " FROM bank_points WHERE bank = ?", [bank])}
    fresh, changed, seen = [], [], []
    for p in points:
        row = known.get(p.id)
        details = (p.city, p.city_type, p.address, p.label, p.hours, p.hours_text,
                   None if p.latitude is None else _text(p.latitude), None if p.longitude is None else _text(p.longitude))
        if row is None:
            fresh.append((bank, p.id, *details, now, now, now))
        elif tuple(row[2:10]) != details:
            changed.append((*details, now, now, row[0]))
        else:
            seen.append((now, row[0]))
    db.conn.executemany(
        "INSERT INTO bank_points (bank, point_id, city, city_type, address, label, hours, hours_text, latitude,"
        " longitude, first_seen, last_seen, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", fresh)
    db.conn.executemany(
        "UPDATE bank_points SET city = ?, city_type = ?, address = ?, label = ?, hours = ?, hours_text = ?,"
        " latitude = ?, longitude = ?, last_seen = ?, changed_at = ? WHERE id = ?", changed)
    db.conn.executemany("UPDATE bank_points SET last_seen = ? WHERE id = ?", seen)
    return {point_id: n for n, point_id in db.execute("SELECT id, point_id FROM bank_points WHERE bank = ?", [bank])}


class Quoted(NamedTuple):
    """What a point quotes now: its open row in bank_point_sets and that set's values."""

    first_poll: int  # the row's first answer
    rate_set: int | None  # None: it quotes nothing
    values: dict  # _key(value) -> bank_values.id
    effective_at: str | None  # the set's, as published


def _quoting(db, bank: str) -> dict[int, Quoted]:
    """Each of the bank's points with an open row: bank_points.id -> what it quotes now."""
    current = {}
    for point, first_poll, rate_set, effective_at in db.execute(
            "SELECT ps.point, ps.first_poll, ps.rate_set, s.effective_at FROM bank_points AS p"
            " JOIN bank_point_sets AS ps INDEXED BY bank_point_sets_open ON ps.point = p.id AND ps.last_poll IS NULL"
            " LEFT JOIN bank_sets AS s ON s.id = ps.rate_set WHERE p.bank = ?", [bank]):
        current[point] = (first_poll, rate_set, {}, effective_at)
    contents: dict[int, dict] = {}
    sets = {entry[1] for entry in current.values()} - {None}
    for rate_set, value, *key in db.execute(
            "SELECT m.rate_set, v.id, v.code, v.against, v.side, v.scale, v.rate_text, v.channel, v.min_amount,"
            " v.max_amount, v.per FROM bank_set_values AS m JOIN bank_values AS v ON v.id = m.value"
            f" WHERE m.rate_set IN ({', '.join('?' * len(sets))})", sorted(sets)):
        contents.setdefault(rate_set, {})[tuple(key)] = value
    return {point: Quoted(first, rate_set, contents.get(rate_set, {}), eff)
            for point, (first, rate_set, _, eff) in current.items()}


class _Sets:
    """Values and rate sets of one answer, each looked up (or stored) once."""

    def __init__(self, db):
        self.db = db
        self.values: dict[tuple, int] = {}
        self.sets: dict[tuple, int] = {}

    def value(self, q: BankRate) -> int:
        key = (*_key(q), int(q.checked), per_unit_e16(q.rate, q.scale, BASE))
        found = self.values.get(key)
        if found is None:
            row = self.db.execute(
                "SELECT id FROM bank_values WHERE code = ? AND against = ? AND side = ? AND scale = ? AND rate_text = ?"
                " AND channel = ? AND min_amount = ? AND max_amount = ? AND per = ? AND checked = ? AND per_unit_e16 = ?",
                key).fetchone()
            if row:
                found = row[0]
            else:
                found = self.db.execute(
                    "INSERT INTO bank_values (code, against, side, scale, rate_text, channel, min_amount, max_amount,"
                    " per, checked, per_unit_e16, typical, rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*key, int(q.typical), float(q.rate)]).lastrowid
            self.values[key] = found
        return found

    def find(self, effective_at: str | None, ids: list[int]) -> int:
        """The set of these values with this effective_at: found, or stored now."""
        ids = sorted(ids)
        key = (effective_at, tuple(ids))
        found = self.sets.get(key)
        if found is None:
            digest = _digest(effective_at, ids)
            for (candidate, candidate_at) in self.db.execute(
                    "SELECT id, effective_at FROM bank_sets WHERE digest = ?", [digest]).fetchall():
                members = [v for (v,) in self.db.execute(
                    "SELECT value FROM bank_set_values WHERE rate_set = ? ORDER BY value", [candidate])]
                if candidate_at == effective_at and members == ids:
                    found = candidate
                    break
            else:
                found = self.db.execute("INSERT INTO bank_sets (effective_at, digest) VALUES (?, ?)",
                                        [effective_at, digest]).lastrowid
                self.db.conn.executemany("INSERT INTO bank_set_values (rate_set, value) VALUES (?, ?)",
                                         [(found, v) for v in ids])
            self.sets[key] = found
        return found


def _digest(effective_at: str | None, ids: list[int]) -> int:
    """A signed 64-bit hash of a set's contents: what bank_sets.digest indexes (collisions are checked)."""
    text = f"{effective_at}|{','.join(map(str, ids))}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)
