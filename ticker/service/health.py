"""Whether the record is well kept: the report `ticker status` prints (and `--json` gives), built
from the store's coverage, its fetch log and the daemon's health rows, with one verdict.

Stdlib only, so `status` stays a fast read-only command.
"""

from datetime import date, datetime

from .. import days, sources
from ..days import parse_stamp
from ..store import health as rows
from ..store import reader

HEARTBEAT = 60  # seconds between two writes of the daemon row while the daemon runs
STALE_AFTER = 180  # seconds without a heartbeat before the daemon is stale: three missed beats
# Seconds a job may run: a catch-up stops itself there (what it stored is kept, the next run goes
# on); a job still running past it hangs, and `ticker status` says stale. Every request is bounded
# by its source's timeout, so only a hang runs past these.
DEADLINES = {"catch-up": 3600, "poll": 900, "bank poll": 900}
FAILING_AFTER = 3  # failed runs in a row before a job counts as failing: 90 minutes of 30-minute polls


def stale(row, now: datetime) -> str | None:
    """Why the daemon counts as stale (stopped, or no heartbeat for over STALE_AFTER seconds), or None."""
    if row is None:
        return None
    if row["state"] == "stopped":
        return f"the daemon stopped at {row['stopped_at']}"
    beat = parse_stamp(row["heartbeat_at"])
    if (now - beat).total_seconds() > STALE_AFTER:
        return f"no heartbeat from the daemon (pid {row['pid']}) since {row['heartbeat_at']}"
    return overdue(row["job"], row["job_since"], now)


def overdue(job: str | None, since: str | None, now: datetime) -> str | None:
    """Why a job counts as hanging (running past its deadline, DEADLINES), or None."""
    if not job or not since:
        return None
    deadline = DEADLINES.get(job, DEADLINES["catch-up"])
    if (now - parse_stamp(since)).total_seconds() <= deadline:
        return None
    return f"the daemon's {job} has run since {since}, past its deadline of {deadline // 60} minutes: it hangs"


def job_failing(row, now: datetime) -> str | None:
    """Why a job counts as failing (FAILING_AFTER failed runs in a row, or a run past its deadline), or None."""
    hanging = overdue("bank poll", row["running_since"], now)
    if hanging:
        return hanging.replace("the daemon's bank poll", f"the {row['job']} poll")
    if row["failures"] < FAILING_AFTER:
        return None
    return (f"the {row['job']} poll failed {row['failures']} times in a row, last at {row['last_error_at']}:"
            f" {row['last_error']}")


def verdict(today: date, last: dict[str, str], tracked: list[str], ended: dict[str, str], succeeded: bool,
            daemon: str | None, banks: tuple = (), gaps: dict | None = None) -> tuple[bool, str]:
    """`ticker status`'s one verdict: (whether all is well, the line that says so or why not).

    Stale when the database has no rates, no fetch ever succeeded, a tracked currency that has
    not ended lacks today's rate (`last`: code -> its last stored day), or `daemon` (from `stale`)
    says why the daemon is not keeping it current, or `banks` (from `job_failing`) why bank polls
    are failing; incomplete when a tracked currency lacks days (`gaps`: code -> runs of days) since
    track.since.
    """
    problems = []
    if not last:
        problems.append("the database has no rates")
    if not succeeded:
        problems.append("no fetch has ever succeeded")
    missing = [code for code in tracked if code not in ended and last.get(code, "") < today.isoformat()]
    if missing and last:
        problems.append(f"no rate for {today}: {', '.join(missing)}")
    problems += [reason for reason in (daemon, *banks) if reason]
    holes = [_gaps(code, runs) for code, runs in (gaps or {}).items() if runs]
    if problems or holes:
        said = [f"stale: {'; '.join(problems)}"] if problems else []
        if holes:
            said.append(f"incomplete: {'; '.join(holes[:SHOWN])}" + (f"; and {len(holes) - SHOWN} more currencies"
                                                                      if len(holes) > SHOWN else ""))
        return False, "; ".join(said)
    current = [code for code in tracked if code not in ended]
    return True, f"up to date: {len(current)} currencies through {max(last[c] for c in current)}"


SHOWN = 5  # currencies with missing days named in the verdict


def _gaps(code: str, runs) -> str:
    days = sum((b - a).days + 1 for a, b in runs)
    shown = ", ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in runs[:3]) + (", ..." if len(runs) > 3 else "")
    return f"{code} lacks {days} day{'s' * (days != 1)} ({shown}); `ticker backfill` fills them"


def report(config, conn, now: datetime) -> dict:
    """Everything `ticker status` says, as data: the verdict and `ok` first."""
    today = days.today()
    coverage = reader.coverage(conn)
    # The last day each has a rate in force, up to today: a monthly rate counts to the end of its month.
    last = {r["code"]: min(r["until"], max(r["last"], today.isoformat())) for r in coverage}
    ended = reader.ended(conn, today)
    tracked = list(config.track.currencies)
    if config.track.all:
        tracked = reader.quoted_on(conn, today) or list(last)
    ok, error = reader.last_fetch(conn, "ok"), reader.last_fetch(conn, "error")
    daemon = rows.read(conn)
    silent = stale(daemon, now)
    banks = _banks(config, conn, now)
    # Every day from track.since to today without a rate (the catalogue says when each code is quoted).
    gaps = {code: reader.gaps(conn, code, config.track.since, today)
            for code in dict.fromkeys([*tracked, *last])}
    failing = [bank["failing"] for bank in banks.values()]
    well, said = verdict(today, last, tracked, ended, ok is not None, silent, failing,
                         {code: gaps[code] for code in tracked})
    currencies = [{**dict(r), "missing": sum((b - a).days + 1 for a, b in gaps[r["code"]]),
                   "gaps": [[a.isoformat(), b.isoformat()] for a, b in gaps[r["code"]]]} for r in coverage]
    found = {
        "verdict": said,
        "ok": well,
        "config": str(config.file.absolute()) if config.file else None,
        "database": str(config.database.path),
        "charts": str(config.charts.dir),
        "today": today.isoformat(),
        "since": config.track.since.isoformat(),
        "currencies": currencies,
        "last_success": dict(ok) if ok else None,
        "last_error": dict(error) if error else None,
        "stale": [code for code in tracked if code not in ended and last.get(code, "") < today.isoformat()],
        "ended": {code: ended[code] for code in sorted(ended) if code in tracked or code in last},
        "daemon": dict(daemon) if daemon else None,
        "daemon_stale": silent,
    }
    if banks:
        found["banks"] = banks
    return found


def _banks(config, conn, now: datetime) -> dict[str, dict]:
    """{bank id: its poll's data and health}, in sources.BANKS order, for each bank that is enabled
    or has stored an answer."""
    jobs = {row["job"]: dict(row) for row in rows.jobs(conn)}
    found = {}
    for bank in sources.BANKS:
        enabled, last, job = getattr(config, bank).enabled, reader.bank_last_poll(conn, bank), jobs.get(bank)
        if enabled or last is not None:
            failing = job_failing(job, now) if job and enabled else None
            found[bank] = {"enabled": enabled, "last_answer": last, "job": job, "failing": failing}
    return found


def lines(found: dict) -> list[str]:
    """The report as `ticker status` prints it: the verdict, then one line per fact."""
    out = [found["verdict"], f"config        {found['config'] or 'none: defaults'}",
           f"database      {found['database']}", f"charts        {found['charts']}",
           f"today         {found['today']} (Europe/Minsk)",
           f"last success  {_fetch(found['last_success'])}", f"last error    {_fetch(found['last_error'])}"]
    labelled = list(_daemon(found["daemon"])) if found["daemon"] else []
    for bank, health in found.get("banks", {}).items():
        labelled += list(_bank_lines(bank, health))
    out += [f"{label:<14}{value}" for label, value in labelled]
    out.append(f"code  rows   first       last        missing days since {found['since']}")
    ended = found["ended"]
    for r in found["currencies"]:
        note = f"  ended: NBRB stopped quoting it after {ended[r['code']]}" if r["code"] in ended else ""
        note += f"  ({r['monthly']} set monthly)" if r["monthly"] else ""
        out.append(f"{r['code']}  {r['rows']:<6} {r['first']}  {r['last']}  {r['missing']}{note}")
    stored = {r["code"] for r in found["currencies"]}
    out += [f"{code}  none   ended: NBRB stopped quoting it after {day}" for code, day in ended.items()
            if code not in stored]
    return out


def _bank_lines(bank: str, health: dict):
    """One bank's lines: what its last answer stored, and its poll's state, success and error."""
    last = health["last_answer"]
    yield "bank rates", (f"{bank}: {last['points']} points, {last['quotes']} rates, last answer {last['finished_at']}"
                         if last else f"{bank}: none stored yet")
    job = health["job"]
    if not health["enabled"]:
        yield "bank poll", f"{bank}: disabled ([{bank}] enabled = false)"
    elif job:
        yield "bank poll", f"{bank}: " + (f"running since {job['running_since']}" if job["running_since"] else
                                          f"next {job['next_run'] or 'never'}")
        for kind in ("success", "error"):
            yield f"bank {kind}", f"{bank}: " + (f"{job[f'last_{kind}_at']}  {job[f'last_{kind}']}"
                                                 if job[f"last_{kind}"] else "none yet")


def _daemon(row):
    state = f"{row['state']}, pid {row['pid']}, ticker {row['version']}, started {row['started_at']}"
    yield "daemon", state + (f", running {row['job']}" if row["job"] else "")
    yield "heartbeat", row["heartbeat_at"]
    if row["state"] == "running":
        yield "next poll", row["next_poll"] or "never"
        yield "next catch-up", row["next_catchup"] or "never"
    for kind in ("success", "error"):
        yield f"job {kind}", f"{row[f'last_{kind}_at']}  {row[f'last_{kind}']}" if row[f"last_{kind}"] else "none yet"


def _fetch(row) -> str:
    if row is None:
        return "never"
    outcome = row["error"] or f"{row['rows_new']} new, {row['rows_changed']} revised"
    return f"{row['finished_at']}  {row['kind']} {row['detail']}: {outcome}"
