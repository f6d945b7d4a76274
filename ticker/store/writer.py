"""Writing the store: idempotent batched writes of rates and the catalogue, and the fetch log."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..days import utcnow
from ..model import Currency, Rate
from .schema import immediate, logged, open_db


@dataclass
class Attempt:
    """One row of `fetches` while it runs."""

    id: int
    new: int = 0
    changed: int = 0


class Store:
    """The one writer's view of the database (sqlite-utils); readers use `reader` instead."""

    def __init__(self, path: Path | str):
        self.path = path
        self.db = open_db(path)

    def close(self):
        self.db.close()

    # -- the catalogue ------------------------------------------------------------------

    def catalogue(self) -> tuple[list[Currency], str | None]:
        """The cached catalogue and when it was read (None when never)."""
        rows = self.db.execute(
            "SELECT cur_id, parent_id, code, num_code, name, name_eng, scale, periodicity,"
            " date_start, date_end, fetched_at FROM currencies ORDER BY cur_id"
        ).fetchall()
        records = [
            Currency(*row[:8], date.fromisoformat(row[8]), date.fromisoformat(row[9])) for row in rows
        ]
        return records, min((row[10] for row in rows), default=None)

    def save_catalogue(self, records: list[Currency]):
        now = utcnow()
        with immediate(self.db):
            self.db.execute("DELETE FROM currencies")
            self.db.conn.executemany(
                "INSERT INTO currencies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r[:8], r.start.isoformat(), r.end.isoformat(), now) for r in records],
            )

    # -- rates --------------------------------------------------------------------------

    def last_date(self, codes: list[str] | None = None, periodicity: int | None = None) -> date | None:
        """The last day stored for every one of `codes` (for any code when None); None if one has none.
        `periodicity` (model.DAILY or MONTHLY) counts only the rows of that list."""
        which = "" if periodicity is None else f" AND periodicity = {int(periodicity)}"
        if not codes:
            lasts = [self.db.execute(f"SELECT max(date) FROM rates WHERE 1{which}").fetchone()[0]]
        else:
            query = f"SELECT max(date) FROM rates WHERE code = ?{which}"
            lasts = [self.db.execute(query, [code]).fetchone()[0] for code in codes]
        return None if None in lasts else date.fromisoformat(min(lasts))

    def stored_dates(self, code: str, first: date, last: date, periodicity: int | None = None) -> set[date]:
        """The days in [first, last] with a stored `code` row (of that list only, when `periodicity` is given)."""
        which = "" if periodicity is None else f" AND periodicity = {int(periodicity)}"
        rows = self.db.execute(
            f"SELECT date FROM rates WHERE code = ? AND date BETWEEN ? AND ?{which}",
            [code, first.isoformat(), last.isoformat()],
        )
        return {date.fromisoformat(day) for (day,) in rows}

    def write(self, rates: list[Rate], attempt: Attempt) -> tuple[list[Rate], list[tuple[Rate, str]]]:
        """Store a batch in one transaction: new rows inserted, differing ones revised, equal ones left.

        The rows are read, compared and written inside one BEGIN IMMEDIATE transaction, so two
        writers storing the same days (two backfills, a fetch beside the daemon) never collide:
        the second finds the first's rows and records nothing twice.
        Returns the new rates and the changed ones with their old text.
        """
        if not rates:
            return [], []
        with immediate(self.db):
            new, changed = self._write(rates, attempt)
        attempt.new += len(new)
        attempt.changed += len(changed)
        return [r for r, _, _ in new], [(r, old[1]) for r, _, _, old in changed]

    def _write(self, rates: list[Rate], attempt: Attempt):
        now = utcnow()
        rows = [(r, r.date.isoformat(), format(r.rate, "f")) for r in rates]
        existing = {}
        for code in {r.code for r in rates}:
            days = [day for r, day, _ in rows if r.code == code]
            existing.update(
                ((code, day), (scale, text))
                for day, scale, text in self.db.execute(
                    "SELECT date, scale, rate_text FROM rates WHERE code = ? AND date BETWEEN ? AND ?",
                    [code, min(days), max(days)],
                )
            )
        new, changed = [], []
        for row in rows:
            r, day, text = row
            old = existing.get((r.code, day))
            if old is None:
                new.append(row)
            elif old != (r.scale, text):
                changed.append((*row, old))
        self.db.conn.executemany(
            "INSERT INTO rates (code, date, scale, rate, rate_text, unit, cur_id, fetched_at, byn_per_unit_e16,"
            " periodicity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.code, day, r.scale, float(r.rate), text, r.unit, r.cur_id, now, r.byn_per_unit_e16, r.periodicity)
             for r, day, text in new],
        )
        for r, day, text, (old_scale, old_text) in changed:
            self.db.execute(
                "INSERT INTO revisions (code, date, old_scale, old_rate_text, new_scale, new_rate_text,"
                " revised_at, fetch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [r.code, day, old_scale, old_text, r.scale, text, now, attempt.id],
            )
            self.db.execute(
                "UPDATE rates SET scale = ?, rate = ?, rate_text = ?, unit = ?, cur_id = ?, fetched_at = ?,"
                " byn_per_unit_e16 = ?, periodicity = ? WHERE code = ? AND date = ?",
                [r.scale, float(r.rate), text, r.unit, r.cur_id, now, r.byn_per_unit_e16, r.periodicity, r.code, day],
            )
        return new, changed

    # -- the fetch log ------------------------------------------------------------------

    @contextmanager
    def attempt(self, kind: str, detail: str):
        """Record one fetch attempt in `fetches`, committed before and after the work (schema.logged)."""
        attempt = Attempt(0)
        with logged(self.db, "fetches", {"kind": kind, "detail": detail},
                    lambda: {"rows_new": attempt.new, "rows_changed": attempt.changed}) as row:
            attempt.id = row
            yield attempt
