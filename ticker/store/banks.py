"""Writing banks' buy and sell rates: one transaction per answer, a row only when a value changes.

After each stored answer, the open rows of `bank_rates` (`last_seen IS NULL`) are exactly the
rates that answer quoted and that were accepted: a value that changed gets a new row, and a value
no longer quoted (a zero now, a point gone, refused or outside the cities kept) is closed with
the time of the last answer that quoted it.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..days import utcnow
from ..model import Point, Quote, Rate


@dataclass
class Poll:
    """One row of `bank_polls` while it runs, and what the write did."""

    id: int
    bank: str
    points: int = 0
    quotes: int = 0
    new: int = 0  # rows added: values new or changed
    closed: int = 0  # values no longer quoted
    refused: list[str] = field(default_factory=list)  # one line each
    seen_at: str | None = None  # UTC stamp of the answer stored


@contextmanager
def polling(db, bank: str):
    """Record one poll of `bank` in `bank_polls`, committed before and after the work."""
    with db.atomic():
        cursor = db.execute("INSERT INTO bank_polls (bank, started_at, status) VALUES (?, ?, 'running')",
                            [bank, utcnow()])
    poll = Poll(cursor.lastrowid, bank)
    status, error = "ok", None
    try:
        yield poll
    except BaseException as exc:
        status, error = "error", str(exc) or type(exc).__name__
        raise
    finally:
        with db.atomic():
            db.execute(
                "UPDATE bank_polls SET finished_at = ?, status = ?, points = ?, quotes = ?, rows_new = ?,"
                " refused = ?, error = ? WHERE id = ?",
                [poll.seen_at or utcnow(), status, poll.points, poll.quotes, poll.new, len(poll.refused), error,
                 poll.id],
            )


@contextmanager
def _immediate(db):
    """A transaction that takes the write lock before it reads, waiting its turn (busy_timeout). A
    deferred one that reads and then writes fails at once, without waiting, when the NBRB job in
    the daemon's other thread committed in between."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


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


def write(db, poll: Poll, points: list[Point], quotes: list[Quote]) -> None:
    """Store one answer of `poll.bank` in one transaction; counts go into `poll`.

    Every quote needs its scale; points are updated when their details change.
    """
    now = utcnow()
    with _immediate(db):
        known = {row[1]: row for row in db.execute(
            "SELECT id, point_id, city, city_type, address, label, hours, hours_text, last_seen"
            " FROM bank_points WHERE bank = ?", [poll.bank])}
        fresh, changed, seen = [], [], []
        for p in points:
            row = known.get(p.id)
            details = (p.city, p.city_type, p.address, p.label, p.hours, p.hours_text)
            if row is None:
                fresh.append((poll.bank, p.id, *details, now, now, now))
            elif tuple(row[2:8]) != details:
                changed.append((*details, now, now, row[0]))
            else:
                seen.append((now, row[0]))
        db.conn.executemany(
            "INSERT INTO bank_points (bank, point_id, city, city_type, address, label, hours, hours_text,"
            " first_seen, last_seen, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", fresh)
        db.conn.executemany(
            "UPDATE bank_points SET city = ?, city_type = ?, address = ?, label = ?, hours = ?, hours_text = ?,"
            " last_seen = ?, changed_at = ? WHERE id = ?", changed)
        db.conn.executemany("UPDATE bank_points SET last_seen = ? WHERE id = ?", seen)
        # Before this answer, each point was last listed at known[...][8]: when its closed values were last seen.
        previous = {row[0]: row[8] for row in known.values()}
        number = {point_id: n for n, point_id in db.execute(
            "SELECT id, point_id FROM bank_points WHERE bank = ?", [poll.bank])}
        ours = set(number.values())
        open_rows = {(row[1], row[2], row[3], row[4]): row for row in db.execute(
            "SELECT id, point, code, against, side, scale, rate_text FROM bank_rates WHERE last_seen IS NULL")
            if row[1] in ours}
        inserts, closes = [], []
        for q in quotes:
            key = (number[q.point], q.code, q.against, q.side)
            text = format(q.rate, "f")
            row = open_rows.pop(key, None)
            if row is not None:
                if (row[5], row[6]) == (q.scale, text):
                    continue
                closes.append((previous[row[1]], row[0]))
            inserts.append((*key, q.scale, float(q.rate), text, q.effective_at, int(q.checked), now))
        closes += [(previous[row[1]], row[0]) for row in open_rows.values()]  # no longer quoted
        db.conn.executemany("UPDATE bank_rates SET last_seen = ? WHERE id = ?", closes)
        db.conn.executemany(
            "INSERT INTO bank_rates (point, code, against, side, scale, rate, rate_text, effective_at, checked,"
            " first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
    poll.points, poll.quotes, poll.new, poll.closed, poll.seen_at = len(points), len(quotes), len(inserts), len(closes), now
