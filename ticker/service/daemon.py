"""`ticker run`: catch up, then keep the database current on a schedule, unattended.

APScheduler runs the NBRB jobs in one worker thread, the only writer of official rates; each bank's
poll has a thread of its own, so a slow or failing bank never delays another bank nor NBRB (SQLite
lets one of them write at a time; each waits its turn). The heartbeat is a thread of ours, timed
by the monotonic clock: neither a long backfill nor a jump of the wall clock can silence it. Jobs
never call the scheduler (a job calling it while the scheduler shuts down deadlocks APScheduler
3.11): they leave what they learn in the `Daemon` object, and the main thread, which owns the
scheduler, acts on it. The main thread also watches the wall clock against the monotonic one and
re-plans every job when it jumps, and bounds the stop: a job still running STOP_GRACE seconds
after SIGTERM is abandoned (every write is a transaction, so nothing half-written remains).
"""

import logging
import os
import select
import shlex
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import __version__, days, sources
from ..days import stamp
from ..errors import ConfigError, Incomplete, Interrupted, Overdue, TickerError, printable
from ..sources import http
from ..store import health as rows
from . import health, schedule
from .hooks import AFTER_BANK_RATES, HOOKS, applies
from .hooks import load as load_hook
from .lock import hold, shown

log = logging.getLogger("ticker")

MAX_RETRY = 3600  # seconds: a failing catch-up is retried at least hourly
LONG = 20  # requests planned that make a catch-up long enough to log its progress
PROGRESS_EVERY = (0.1, 30)  # a progress line each tenth of the days planned, or each 30 s


REFUSALS_LOGGED = 20  # refused points or rates logged per poll, one line each; the rest are counted
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
JUMP = 30  # seconds the wall clock may drift from the monotonic one before every job is re-planned
# Seconds a stop waits for the running jobs (each request is bounded by its source's timeout) before
# it abandons them: well inside systemd's TimeoutStopSec (90 s in contrib/ticker.service).
STOP_GRACE = 45


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Daemon:
    """The jobs, and what they learned: the daemon's health, written to the `daemon` row."""

    def __init__(self, config, hooks=None):
        self.config = config
        self.triggers = schedule.triggers(config)
        self.bank_triggers = schedule.bank_triggers(config)  # {bank id: trigger} of the enabled banks
        # (what it refreshes, function(config)): run in order after new rates are stored.
        self.hooks = hooks if hooks is not None else [(what, load_hook(spec)) for what, spec in HOOKS]
        self.stopping = False
        self.halt = threading.Event()  # set when the daemon stops: ends the heartbeat thread's wait
        self.bank_running: set[str] = set()  # the banks whose poll runs now
        self._refreshing = threading.Lock()  # one refresh of the outputs at a time, whichever job asks
        self.polled_on = None  # the Minsk day a poll stored the next day's rates
        self.lists_on = None  # the Minsk day a catch-up last recorded NBRB's other lists (monthly rates)
        self.failures = 0  # catch-ups failed in a row that stored nothing
        self.warned: set[str] = set()  # notes already logged: each once per process
        self.progress = None  # the running backfill's last Progress
        self.stored_before = 0  # rates the running catch-up stored before that backfill
        self._logged = (0.0, 0.0)  # (fraction, monotonic time) of the last progress line
        self.retry_at: datetime | None = None
        self.job: str | None = None
        self.job_since: datetime | None = None
        self._job_started = 0.0  # monotonic: what the job's deadline is measured from
        self.last_success: tuple[str, str] | None = None  # (UTC stamp, what)
        self.last_error: tuple[str, str] | None = None

    # -- jobs (run in the scheduler's worker threads) ----------------------------------

    def catchup(self) -> None:
        """Fill every missing day since track.since, record the days already published after
        today, and refresh the outputs; on failure, ask for a retry: after `schedule.retry`
        seconds when the attempt stored something, doubling while attempts store nothing."""
        ok, count = self._run("catch-up", self._catch_up)
        if ok:
            self.failures, self.retry_at = 0, None
            log.info("%s", self.last_success[1])
        elif not self.stopping:
            if count:
                self.failures = 0
            delay = min(self.config.schedule.retry * 2**self.failures, MAX_RETRY)
            self.failures += 1
            self.retry_at = _now() + timedelta(seconds=delay)
            self.save()
            log.info("catch-up: retrying in %g s", delay)
        if (ok or count) and not self.stopping:
            self._after_new_rates()

    def poll(self) -> None:
        """Ask for the next day's rates, once a poll; after they are stored, not again that day."""
        if self.polled_on == days.today():
            log.debug("poll: the next day's rates are stored; nothing to ask today")
            return
        _, count = self._run("poll", self._poll)
        if count and not self.stopping:
            self._after_new_rates()

    def bank(self, bank: str) -> None:
        """Poll one bank once, in that bank's own thread: a failure is one log line and the job's
        health (its row in `daemon_jobs`, named by the bank's id), and its next poll tries again."""
        from ..store.writer import Store
        from ..sync.banks import poll

        if self.stopping:
            return
        path = self.config.database.path
        self.bank_running.add(bank)
        try:
            rows.job_write(path, bank, running_since=stamp(_now()))
            store = Store(path)
            try:
                done = poll(self.config, bank, store)
                _checkpoint(store)
            finally:
                store.close()
            for line in done.refused[:REFUSALS_LOGGED]:
                log.warning("%s", line)
            if len(done.refused) > REFUSALS_LOGGED:
                log.warning("%s: %d more refused", bank, len(done.refused) - REFUSALS_LOGGED)
            what = (f"{done.points} points, {done.rates} rates: {done.changed} new or changed, {done.ended} no longer"
                    f" quoted" + (f", {len(done.refused)} refused" if done.refused else ""))
            log.info("%s: %s", bank, what)
            rows.job_write(path, bank, running_since=None, next_run=self._bank_next(bank),
                           last_success_at=stamp(_now()), last_success=what, failures=0)
            if (done.changed or done.ended) and not self.stopping:
                self._after_new_rates(lambda what: AFTER_BANK_RATES.get(what, lambda config: False)(self.config))
        except Exception as exc:
            message = _one_line(exc)
            log.error("%s poll failed: %s", bank, message)
            log.debug("%s poll failed", bank, exc_info=True)
            try:
                rows.job_failed(path, bank, stamp(_now()), message, self._bank_next(bank))
            except Exception as again:  # the database itself is failing: the log has it
                log.error("%s poll: could not record its health: %s", bank, _one_line(again))
        finally:
            self.bank_running.discard(bank)

    def _bank_next(self, bank: str) -> str | None:
        trigger = self.bank_triggers.get(bank)  # None once a reload disabled it
        return stamp(trigger.get_next_fire_time(None, _now())) if trigger else None

    def bank_planned(self, **fields) -> None:
        """Write each enabled bank's next poll, at start and after a reload (a poll may be running then)."""
        for bank in self.bank_triggers:
            rows.job_write(self.config.database.path, bank, next_run=self._bank_next(bank), **fields)

    def beat(self) -> None:
        """The heartbeat: every minute, the daemon row's time and next runs, and systemd's watchdog."""
        if self.stopping:
            return
        self.save()
        if os.environ.get("WATCHDOG_USEC"):
            notify("WATCHDOG=1")

    def _catch_up(self, store, notes: list) -> tuple[str, int]:
        """Backfill the daily list, then NBRB's other lists (its monthly rates), those once a day
        once they succeeded: a failure in one never keeps the others from storing; the first is
        raised after all of them."""
        from .. import sync

        self.progress, self.stored_before, self._logged = None, 0, (0.0, time.monotonic())
        today = days.today()
        lists = sources.LISTS if self.lists_on != today else sources.LISTS[:1]
        run = sync.catch_up(self.config, store, progress=self._check, lists=lists)
        notes += run.notes
        new = changed = 0
        for part in run.parts:
            counts = _log_summary(part.summary, part.source)
            new, changed = new + counts[0], changed + counts[1]
        if len(lists) > 1 and not any(part.failure for part in run.parts[1:]):
            self.lists_on = today
        _checkpoint(store)
        if run.failure:
            raise run.failure
        return f"{new} new, {changed} revised, through {store.last_date() or today}", new + changed

    def _poll(self, store, notes: list) -> tuple[str, int]:
        from ..sync.official import Sync

        today = days.today()
        sync = Sync(self.config, store)
        sync.notes = notes
        try:
            report = sync.poll()
        except Incomplete as exc:
            _log_report("poll", exc.result)
            raise
        _log_report("poll", report)
        count = sum(len(new) + len(changed) for _, new, changed in report)
        if any(day > today for day, _, _ in report):
            self.polled_on = today
            return f"stored {report[-1][0]}", count
        first = report[-1][0] + timedelta(days=1) if report else None
        log.debug("poll: %s not published yet", first or "the next day")
        return "nothing new yet", count

    def _check(self, source, progress) -> None:
        """Backfill's progress callback: where a stop request interrupts a long backfill, and
        where a long one logs how far it has got."""
        self.progress = progress
        if self.stopping:
            raise Interrupted("the daemon is stopping")
        deadline = health.DEADLINES["catch-up"]
        if time.monotonic() - self._job_started > deadline:
            raise Overdue(f"the catch-up ran past its deadline of {deadline // 60} minutes; what it stored is kept,"
                          " the next run goes on")
        if progress.requests < LONG:
            return
        fraction, at = self._logged
        now = time.monotonic()
        if progress.fraction >= fraction + PROGRESS_EVERY[0] or now - at >= PROGRESS_EVERY[1]:
            self._logged = (progress.fraction, now)
            log.info("catch-up: %d%%: %d of %d currencies done, %d rates stored, %d requests failed so far",
                     100 * progress.fraction, progress.codes_done, progress.codes, progress.stored, progress.failed)

    def _run(self, name: str, work) -> tuple[bool, int]:
        """Run one job: `work(store, notes)` returns (what it did, rates stored or revised) and puts
        what a person should know in `notes`. Returns (whether it succeeded, rates stored or
        revised); every fault becomes one log line and `last_error`, never an exception. A job that
        failed in part still counts what it stored."""
        from ..store.writer import Store

        if self.stopping:
            return False, 0
        self.job, self.job_since, self._job_started = name, _now(), time.monotonic()
        self.save()
        store, notes = None, []
        try:
            store = Store(self.config.database.path)
            what, count = work(store, notes)
        except Interrupted:
            stored = self.stored_before + (self.progress.stored if self.progress else 0) if name == "catch-up" else 0
            log.info("%s interrupted: the daemon is stopping; it stored %d rates", name, stored)
            return False, stored
        except Exception as exc:
            message = _one_line(exc)
            self.last_error = (stamp(_now()), f"{name}: {message}")
            log.error("%s failed: %s", name, message)
            log.debug("%s failed", name, exc_info=True)
            return False, exc.stored if isinstance(exc, Incomplete) else 0
        else:
            self.last_success = (stamp(_now()), f"{name}: {what}")
            return True, count
        finally:
            for note in notes:
                if note not in self.warned:
                    self.warned.add(note)
                    log.warning("%s", note)
            if store is not None:
                store.close()
            self.job = self.job_since = None
            self.save()

    def _after_new_rates(self, wanted=lambda what: True) -> None:
        """Run every hook (or those `wanted(what)`) in turn; a failing one is one log line and
        `last_error`, and the next still runs."""
        with self._refreshing:  # two banks' polls, or a poll and a catch-up, ending together
            self._refresh(wanted)

    def _refresh(self, wanted) -> None:
        for what, hook in self.hooks:
            if self.stopping:
                return
            if not wanted(what) or not applies(what, self.config):
                continue
            try:
                hook(self.config)
                log.info("refreshed %s", what)
            except Exception as exc:
                if self.stopping:  # Ctrl-C or systemd's SIGTERM reached a child process too
                    log.info("refreshing %s interrupted: the daemon is stopping", what)
                    return
                message = _one_line(exc)
                self.last_error = (stamp(_now()), f"refresh: {message}")
                log.error("refreshing %s failed: %s", what, message)

    # -- main-thread side ----------------------------------------------------------------

    def retry_due(self, now: datetime) -> bool:
        """Whether a failed catch-up should run again now; the main thread then schedules it."""
        retry_at = self.retry_at  # read once: the worker thread may clear it meanwhile
        if retry_at is None or now < retry_at:
            return False
        self.retry_at = None
        return True

    def reload(self, load) -> bool:
        """Take a re-read config if it is valid and keeps the database; else keep the old one."""
        try:
            config = load()
            if config.database.path != self.config.database.path:
                raise ConfigError(f"database.path cannot change while running ({shown(config.database.path)}); restart instead")
            triggers = schedule.triggers(config)
            bank_triggers = schedule.bank_triggers(config)
        except TickerError as exc:
            log.error("SIGHUP: kept the running configuration: %s", exc)
            return False
        self.config, self.triggers, self.bank_triggers = config, triggers, bank_triggers
        log.info("SIGHUP: reloaded %s", config.file or "the default configuration")
        return True

    # -- the daemon row --------------------------------------------------------------------

    def started(self) -> None:
        rows.started(self.config.database.path, stamp(_now()))
        self.save()
        self.bank_planned(running_since=None)  # a poll a crash interrupted is not running any more

    def stopped(self) -> None:
        self.save(state="stopped", stopped_at=stamp(_now()))

    def save(self, **fields) -> None:
        """Rewrite the daemon row from this object: heartbeat, job, next runs, last success and error."""
        now = _now()
        catchup, retry_at = self.triggers["catchup"].get_next_fire_time(None, now), self.retry_at
        if retry_at is not None:
            catchup = min(catchup, retry_at) if catchup else retry_at
        rows.write(
            self.config.database.path,
            heartbeat_at=stamp(now),
            job=self.job,
            job_since=stamp(self.job_since),
            next_poll=stamp(schedule.next_poll(self.triggers["poll"], now, self.polled_on)),
            next_catchup=stamp(catchup),
            last_success_at=self.last_success and self.last_success[0],
            last_success=self.last_success and self.last_success[1],
            last_error_at=self.last_error and self.last_error[0],
            last_error=self.last_error and self.last_error[1],
            **fields,
        )


def _fold_in(database) -> None:
    """At a clean stop: every change folded into the database file and the -wal emptied, so that a
    copy of the bare file or SQLite's immutable=1 reads it whole; a reader holding it then (Datasette,
    say) is said in one line, with the safe way to read meanwhile."""
    from ..store.schema import checkpoint
    from ..store.writer import Store

    try:
        store = Store(database)
        try:
            left = checkpoint(store.db)
        finally:
            store.close()
    except Exception as exc:
        log.error("stopping: could not fold the -wal into the database: %s", _one_line(exc))
        return
    if left is None:
        log.warning("stopping: a reader holds %s, so its -wal still holds changes: read it with SQLite in WAL mode, "
                    "or copy it with `ticker backup`, not as a bare file or with immutable=1, until the daemon starts again "
                    "or, once the reader is gone, `sqlite3 %s 'PRAGMA wal_checkpoint(TRUNCATE)'` (as the daemon's "
                    "user) folds them in",
                    shown(database), shlex.quote(str(Path(database).resolve())))


def _checkpoint(store) -> None:
    """After a batch of writes: the -wal folded in and cut back, unless a reader holds it (then later)."""
    from ..store.schema import checkpoint

    if checkpoint(store.db) is None:
        log.debug("checkpoint: a reader holds the database; the -wal is folded in later")


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if isinstance(exc, TickerError) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _log_summary(summary, source=None) -> tuple[int, int]:
    """Log a backfill's {code: [new, changed]} in one line, naming the list when it is not the daily
    one; returns the totals."""
    new, changed = (sum(counts[i] for counts in summary.values()) for i in (0, 1))
    if new or changed:
        codes = ", ".join(f"{code} {n}" for code, (n, _) in sorted(summary.items()) if n)
        which = f" of the {source.listing} list" if source is not None and source.id != sources.DEFAULT else ""
        log.info("backfill%s: %d new, %d revised (%s)", which, new, changed, codes)
    return new, changed


def _log_report(job: str, report) -> None:
    for day, new, changed in report:
        new = sorted(new, key=lambda r: r.code)
        if new or changed:
            rates = ", ".join(f"{r.code} {r.rate}" for r in new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
            revised = ", ".join(f"{r.code} {r.rate} (was {old})" for r, old in changed)
            log.info("%s: stored %s: %s", job, day, "; ".join(filter(None, [rates, revised and f"revised {revised}"])))


def notify(message: str) -> None:
    """sd_notify: tell systemd (Type=notify) READY=1, STOPPING=1, WATCHDOG=1; nothing outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", message, exc)


class Signals:
    """SIGTERM and SIGINT ask to stop, SIGHUP to reload. The handlers only set flags: taking a
    lock (as Event.set does) in a handler can deadlock the main thread if it holds that lock.
    The wakeup fd ends the main thread's wait at once."""

    def __init__(self):
        self.stop: str | None = None
        self.reload = False
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._reload)

    def _stop(self, signum, frame):
        self.stop = signal.Signals(signum).name

    def _reload(self, signum, frame):
        self.reload = True

    def wait(self, seconds: float) -> None:
        select.select([self._read], [], [], seconds)
        try:
            while self._read.recv(64):
                pass
        except BlockingIOError:
            pass


def _quiet_scheduler(record: logging.LogRecord) -> bool:
    """APScheduler's own words (a missed run, a job added) are for debugging: never above DEBUG.
    On the handler, as a logger's filters never see its children's records."""
    if record.name.startswith("apscheduler"):
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
    return True


class _Printable(logging.Formatter):
    """Log lines carry upstream text (a point's name, a refused value): never a terminal control."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def _logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_Printable("%(levelname)s %(message)s"))
        if _quiet_scheduler not in handler.filters:
            handler.addFilter(_quiet_scheduler)
    # Retries are logged by ticker.http in our words; urllib3's connection chatter stays out.
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def run(config, level: str | None = None, load=None) -> None:
    """Hold the lock, migrate, then run the jobs until SIGTERM or SIGINT; `load` re-reads the config on SIGHUP.

    `level` (from --log-level) overrides `log.level`, also after a reload.
    """
    from ..store import reader
    from ..store.writer import Store

    _logging(level or config.log.level)
    schedule.triggers(config), schedule.bank_triggers(config)  # a crontab the scheduler refuses: nothing written
    database = config.database.path
    Store(database).close()  # create or migrate before any job runs (and refuse another program's file)
    hold(database)
    signals = Signals()
    http.STOP.clear()
    # Held open and idle for the daemon's life: SQLite deletes the -wal and -shm files when its
    # last connection closes, and readers who may not write the folder cannot create them again.
    keeper = reader.connect(database)
    daemon = Daemon(config)
    daemon.started()
    log.info("ticker %s started (pid %d) on %s: polls %r, catch-up %r (Minsk time)", __version__, os.getpid(),
             shown(database), schedule.crontab(config, "poll"), schedule.crontab(config, "catchup"))
    for bank in daemon.bank_triggers:
        log.info("%s: polls its buy and sell rates at start and on %r (Minsk time)", bank, schedule.bank_crontab(config, bank))
    scheduler = _scheduler(daemon)
    beating = threading.Thread(target=_beat, args=(daemon, signals), name="heartbeat", daemon=True)
    beating.start()
    notify("READY=1")
    offset = time.time() - time.monotonic()  # what the wall clock reads beyond the monotonic one
    while not signals.stop:
        retry_at = daemon.retry_at
        signals.wait(min(max((retry_at - _now()).total_seconds(), 0), 1.0) if retry_at else 1.0)
        drift = time.time() - time.monotonic() - offset
        if abs(drift) > JUMP:
            # The wall clock was set (an RTC reset, NTP, a resume): plan every job from the new now,
            # before the scheduler sleeps through a step back or walks the runs a leap ahead missed.
            offset += drift
            log.warning("the wall clock jumped %s by %s; every job is planned again from %s",
                        "ahead" if drift > 0 else "back", timedelta(seconds=round(abs(drift))), stamp(_now()))
            _replan(scheduler, daemon)
        if signals.reload:
            signals.reload = False
            if load and daemon.reload(load):
                if not level:
                    logging.getLogger().setLevel(daemon.config.log.level)
                _replan(scheduler, daemon)
                daemon.bank_planned()
        if daemon.retry_due(_now()):
            # A fresh id each time: the failed run may not have returned yet, and one job id
            # admits one running instance (max_instances) and would skip this one.
            scheduler.add_job(daemon.catchup, name="catch-up retry")
    log.info("%s: stopping", signals.stop)
    notify("STOPPING=1")
    daemon.stopping = True
    daemon.halt.set()
    http.STOP.set()  # a wait before a retry ends now; a request in flight ends within its timeout
    scheduler.shutdown(wait=False)
    busy = _wait_for_jobs(daemon, STOP_GRACE)
    daemon.stopped()
    _fold_in(database)
    keeper.close()
    if busy:
        log.warning("stopped, abandoning %s after %d s: what it stored is kept, the next start finishes it",
                    busy, STOP_GRACE)
        logging.shutdown()
        os._exit(0)  # the job's thread cannot be ended otherwise, and Python would wait for it at exit
    log.info("stopped")


def _wait_for_jobs(daemon: "Daemon", seconds: float) -> str | None:
    """Wait up to `seconds` for the running jobs to return; the name of one still running, or None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if daemon.job is None and not daemon.bank_running:
            return None
        time.sleep(0.1)
    return daemon.job or (daemon.bank_running and f"the {', '.join(sorted(daemon.bank_running))} poll")


def _beat(daemon: "Daemon", signals: "Signals") -> None:
    """The heartbeat thread: every HEARTBEAT seconds of the monotonic clock, whatever the wall clock does."""
    while not signals.stop:
        try:
            daemon.beat()
        except Exception as exc:  # a busy or failing database: the next beat tries again
            log.error("heartbeat failed: %s", _one_line(exc))
        if daemon.halt.wait(health.HEARTBEAT):
            return


def _replan(scheduler, daemon: "Daemon") -> None:
    """Every job planned again from now, on the daemon's triggers (after a reload or a clock jump)."""
    for job in schedule.JOBS:
        scheduler.reschedule_job(job, trigger=daemon.triggers[job])
    _bank_jobs(scheduler, daemon)


def _scheduler(daemon: Daemon):
    """The running scheduler: one worker thread for the NBRB jobs, one for each bank's poll."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        timezone=days.minsk(),
        # Every bank's executor, enabled or not: a reload may enable one (threads start when used).
        executors={"default": ThreadPoolExecutor(1), **{bank: ThreadPoolExecutor(1) for bank in sources.BANKS}},
        job_defaults=JOB_DEFAULTS,
    )
    scheduler.add_job(daemon.catchup, id="catchup-start", name="catch-up at start")
    scheduler.add_job(daemon.catchup, daemon.triggers["catchup"], id="catchup", name="daily catch-up")
    scheduler.add_job(daemon.poll, daemon.triggers["poll"], id="poll", name="poll")
    for bank in daemon.bank_triggers:
        scheduler.add_job(daemon.bank, args=[bank], id=f"{bank}-start", name=f"{bank} poll at start", executor=bank)
    _bank_jobs(scheduler, daemon)
    scheduler.start()
    return scheduler


def _bank_jobs(scheduler, daemon: Daemon) -> None:
    """Add, reschedule or remove each bank's poll to match the config (the main thread's work)."""
    for bank in sources.BANKS:
        job, trigger = scheduler.get_job(bank), daemon.bank_triggers.get(bank)
        if trigger is None:
            if job:
                job.remove()
        elif job:
            scheduler.reschedule_job(bank, trigger=trigger)
        else:
            scheduler.add_job(daemon.bank, trigger, args=[bank], id=bank, name=f"{bank} poll", executor=bank)
