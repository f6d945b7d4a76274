"""The `ticker` command line: one click group, heavy imports inside the commands that need them."""

import errno
import os
import sqlite3
import sys
from contextlib import nullcontext
from datetime import date, datetime, timezone
from pathlib import Path

import click

from . import days
from . import config as configuration
from .errors import DatabaseError, Incomplete, TickerError


class Day(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return days.parse_day(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2024-01-10, today, tomorrow or yesterday", param, ctx)


def _option_like(kind: click.ParamType, value, param, ctx) -> None:
    """In `convert`, unknown options pass as arguments (for -100): name a mistyped one as such."""
    if isinstance(value, str) and value.startswith("--"):
        kind.fail(f"no such option: {value}", param, ctx)


class Code(click.ParamType):
    name = "CODE"

    def convert(self, value, param, ctx):
        _option_like(self, value, param, ctx)
        try:
            return configuration.code(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Amount(click.ParamType):
    name = "AMOUNT"

    def convert(self, value, param, ctx):
        from .outputs.convert import amount

        _option_like(self, value, param, ctx)
        try:
            return amount(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DAY, CODE = Day(), Code()
AMOUNT = Amount()


class Group(click.Group):
    """Turns every error a person can meet into one line and an exit status: the package's typed
    errors, SQLite's, a file or folder the system refuses (a full disk, no permission), and click's
    usage errors (without the usage text: `--help` has it)."""

    def invoke(self, ctx):
        try:
            try:
                return super().invoke(ctx)
            except sqlite3.Error as exc:  # a locked, corrupt, foreign or unwritable file
                raise DatabaseError(f"{ctx.obj.database.path}: {exc}") from None
        except TickerError as exc:
            raise _one_line(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            raise _one_line(exc.format_message(), exc.exit_code) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # a reader that left (`ticker export | head`): click ends quietly
            if exc.errno == errno.ENOSPC or exc.filename is None:
                sys.stdout = open(os.devnull, "w")  # what stdout still buffers can never be written
            where = f"{exc.filename}: " if exc.filename else ""
            raise _one_line(f"{where}{exc.strerror or exc}", 1) from None


def _one_line(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


def _versions(ctx, param, value):
    """--version: ticker's, and what a bug report needs beside it (read from the installed metadata)."""
    if not value or ctx.resilient_parsing:
        return
    from .versions import report

    click.echo(report())
    ctx.exit()


@click.group(cls=Group)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_versions,
              help="Show the version of ticker, Python, SQLite and the libraries, and exit.")
@click.option("--config", "config_file", metavar="PATH",
              help="Config file [env TICKER_CONFIG; default ./config.toml, else the user's: see `ticker status`].")
@click.option("--db", metavar="PATH", help="SQLite file, overriding [database] path.")
@click.pass_context
def cli(ctx, config_file, db):
    """Official NBRB exchange rates of the Belarusian rouble, recorded into SQLite."""
    if ctx.invoked_subcommand == "init":
        return  # it writes the config: reading it first would refuse the file it is about to write
    # Only the commands that deliver alerts ask Apprise about their URLs: loading it costs the
    # read-only commands' whole start-up.
    notify = ctx.invoked_subcommand in DELIVERING
    ctx.obj = configuration.load(configuration.find(config_file), db, notify=notify)


DELIVERING = ("fetch", "run", "alerts", "bank-fetch")  # the commands that deliver alerts (or test them)


def _sync(config):
    from .sync import Sync

    return Sync(config)


def _reader(config):
    from .store import reader

    return reader.connect(config.database.path)


def _range(since, until) -> None:
    """An inverted range is a usage error, the same in every command."""
    if since and until and since > until:
        raise click.BadParameter(f"{since} is after --until {until}", param_hint="--since")


@cli.command()
@click.option("--date", "dates", type=DAY, multiple=True, help="A day to fetch (repeatable). Default: today and later published days.")
@click.pass_obj
def fetch(config, dates):
    """Record the rates in force on a day for the tracked currencies, then deliver any alert."""
    sync = _sync(config)
    try:
        report, failure = sync.fetch(list(dates) or None), None
    except Incomplete as exc:  # stored what it could; the error after what was stored
        report, failure = exc.result, exc
    for day, new, changed in report:
        # By code, and shaped as `ticker rate` shows a rate: NBRB lists them by their Russian names.
        lines = [(r.code, f"{r.scale} {r.code} = {r.rate} {r.unit}  new") for r in new]
        lines += [(r.code, f"{r.scale} {r.code} = {r.rate} {r.unit}  revised from {old}") for r, old in changed]
        for _, text in sorted(lines):
            click.echo(f"{day}  {text}")
        if not lines:
            click.echo(f"{day}  nothing new")
    # The other lists (monthly rates) for the same days: what is missing of them, if anything.
    today = days.today()
    first, last = min(dates or [today]), min(max(dates or [today]), today)
    for lister in sync.besides():
        if first <= last:
            summary, failed = _backfill(lister, first, last)
            _said(lister, summary)
            failure = failure or failed
    _warn(sync.notes)
    if config.alerts:
        # As the daemon does after new rates: whoever stores them first tells, exactly once.
        from .outputs import alerts

        alerts.run(config, say=lambda delivery: click.echo(delivery.line, err=bool(delivery.error)))
    if failure:
        raise failure


def _backfill(sync, since, until, codes=None, progress=None):
    """`sync.backfill(...)` and the Incomplete it raised, if any, after what it stored."""
    try:
        return sync.backfill(since, until, codes, progress), None
    except Incomplete as exc:
        return exc.result, exc


def _said(sync, summary) -> None:
    """A backfill's summary, one line per currency, naming the list when it is not the daily one."""
    from .sources import DEFAULT

    which = "" if sync.source.id == DEFAULT else f" ({sync.source.listing})"
    for code, (new, changed) in sorted(summary.items()):
        click.echo(f"{code}  {new} new, {changed} revised{which}")


def _warn(notes):
    """What a person should know that is no failure (an ended currency, say): one line each, on stderr."""
    for note in notes:
        click.echo(f"Warning: {note}", err=True)


@cli.command()
@click.option("--since", type=DAY, help="First day [default: track.since].")
@click.option("--until", type=DAY, help="Last day [default: the last day NBRB has published].")
@click.option("--currency", "codes", type=CODE, multiple=True, help="Only this currency (repeatable).")
@click.pass_obj
def backfill(config, since, until, codes):
    """Fill every missing day from NBRB's history, daily and monthly lists; safe to interrupt and re-run."""
    _range(since, until)
    if since and until is None and since > days.today():
        from .errors import BadRange

        raise BadRange(f"--since {since} is after today ({days.today()}); `ticker fetch` records the days NBRB "
                       "has already published after today")
    stored = 0

    def progress(now):
        nonlocal bar, state
        state = now
        if bar is None and sys.stderr.isatty():
            label = "Backfilling" if lister is sync else f"Backfilling the {lister.source.listing} list"
            bar = click.progressbar(length=now.days, label=label, file=sys.stderr).__enter__()
        if bar is not None:
            bar.update(now.days_done - bar.pos)

    sync = _sync(config)
    done, failure = False, None
    for lister in [sync, *sync.besides()]:
        bar = state = None
        try:
            summary, failed = _backfill(lister, since, until, list(codes) or None, progress)
        except KeyboardInterrupt:
            stored += state.stored if state else 0
            raise click.ClickException(f"Interrupted: stored {stored} rates; run it again to finish") from None
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        stored += state.stored if state else 0
        _said(lister, summary)
        done, failure = done or bool(summary), failure or failed
    if not done and not failure:
        click.echo("Nothing missing.")
    _warn(sync.notes)
    if failure:
        raise failure


@cli.command()
@click.argument("code", type=CODE)
@click.option("--date", "day", type=DAY, help="The day [default: today in Minsk].")
@click.option("--json", "as_json", is_flag=True, help="Exact values as JSON.")
@click.pass_obj
def rate(config, code, day, as_json):
    """The official rate in force on a day (a monthly currency's: the one set that month)."""
    from .model import MONTHLY, PER_BYN
    from .store import reader

    day = day or days.today()
    q = reader.rate(_reader(config), code, day)
    byn = q.rate / PER_BYN[q.unit]
    if as_json:
        import json

        click.echo(json.dumps({
            "code": q.code, "date": q.date.isoformat(), "scale": q.scale, "rate": str(q.rate),
            "unit": q.unit, "cur_id": q.cur_id, "byn_per_unit": str(q.byn_per_unit),
            "periodicity": q.periodicity, "in_force_on": day.isoformat(),
        }, indent=2))
        return
    old = f" ({byn} BYN after the redenomination)" if q.unit != "BYN" else ""
    monthly = f"set monthly on {q.date}; " if q.periodicity == MONTHLY else ""
    click.echo(f"{day}  {q.scale} {q.code} = {q.rate} {q.unit}{old}  ({monthly}NBRB Cur_ID {q.cur_id})")


# Unknown options pass as arguments, so that a negative AMOUNT needs no `--`: ticker convert -100 USD.
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("amount", type=AMOUNT)
@click.argument("source", metavar="FROM", type=CODE)
@click.argument("target", metavar="[TO]", type=CODE, default="BYN")
@click.option("--date", "day", type=DAY, help="The day whose rates apply [default: today in Minsk].")
@click.option("--precision", type=click.IntRange(0, 8), default=2, show_default=True, help="Decimals in the result.")
@click.pass_obj
def convert(config, amount, source, target, day, precision):
    """An amount at the official rates of a day (TO defaults to BYN): ticker convert 100 USD EUR."""
    from .outputs.convert import convert as conversion

    click.echo(conversion(_reader(config), amount, source, target, day or days.today()).text(precision))


@cli.command()
@click.option("--format", "format_", type=click.Choice(["csv", "spreadsheet", "json", "ndjson", "beancount", "ledger"]),
              default="csv", show_default=True,
              help="csv, spreadsheet (CSV for a Russian-locale spreadsheet), a JSON array, NDJSON, beancount or ledger prices.")
@click.option("--since", type=DAY, help="First day [default: the first stored].")
@click.option("--until", type=DAY, help="Last day [default: the last stored].")
@click.option("--currency", "codes", type=CODE, multiple=True, help="Only this currency (repeatable).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file, replaced atomically [default: stdout].")
@click.option("--bank", is_flag=True, help="The best bank buy and sell rates of each city and day instead: csv, spreadsheet, json or ndjson.")
@click.option("--city", "cities", multiple=True, help="With --bank: only this city, as the bank writes it (repeatable) [default: every city].")
@click.pass_obj
def export(config, format_, since, until, codes, output, bank, cities):
    """Every stored rate, streamed, for spreadsheets, scripts and ledgers."""
    from .outputs import atomic
    from .outputs import export as exporting

    _range(since, until)
    if bank or cities:
        _export_bank(config, format_, since, until, codes, output, bank, cities)
        return
    conn = _reader(config)
    if output is None:
        exporting.export(conn, sys.stdout, format_, codes, since, until)
    else:
        try:
            with atomic.replacing(output, "w", encoding="utf-8", newline="") as out:
                exporting.export(conn, out, format_, codes, since, until)
        except OSError as exc:
            raise click.FileError(str(output), exc.strerror or str(exc)) from None
    empty = exporting.nothing(conn, codes, since, until)
    if empty:
        click.echo(empty, err=True)


def _export_bank(config, format_, since, until, codes, output, bank, cities):
    """`ticker export --bank`: the best bank buy and sell rates of each city, currency and day."""
    from .outputs import atomic
    from .outputs import export as exporting

    if not bank:
        raise click.BadParameter("a city is for bank rates: add --bank", param_hint="--city")
    if format_ not in exporting.BANK_FORMATS:
        raise click.BadParameter(f"--bank exports {', '.join(exporting.BANK_FORMATS[:-1])} or"
                                 f" {exporting.BANK_FORMATS[-1]}: a ledger takes one price a day, the official rate",
                                 param_hint="--format")
    conn = _reader(config)
    try:
        with atomic.replacing(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
            exporting.export_bank(conn, out, format_, cities, codes, since, until)
    except OSError as exc:
        raise click.FileError(str(output), exc.strerror or str(exc)) from None
    empty = exporting.nothing_bank(conn, cities, codes, since, until)
    if empty:
        click.echo(empty, err=True)


@cli.command()
@click.option("--date", "day", type=DAY, help="The day [default: today in Minsk].")
@click.option("--precision", type=click.IntRange(0, 8), help="Decimals shown [default: line.precision].")
@click.option("--json", "as_json", is_flag=True, help="Exact values, dates and changes as JSON.")
@click.option("--write", is_flag=True, help="Also write ticker.json and ticker.txt into [charts] dir/latest.")
@click.pass_obj
def line(config, day, precision, as_json, write):
    """The header line: RUB 3.78 BYN · USD 3.00 BYN · EUR 3.42 BYN."""
    from .outputs import tickerfiles

    precision = config.line.precision if precision is None else precision
    # One rendering for the screen and the files, so ticker.json is exactly what --json prints.
    files = tickerfiles.render(_reader(config), config.line.currencies, day or days.today(), precision,
                               configuration.shows_banks(config, "ticker"))
    if write:
        # Resolved once: a `latest` symlink swapped meanwhile cannot split the two files.
        folder = (config.charts.dir / "latest").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        tickerfiles.save(folder, files)
    click.echo(files["ticker.json" if as_json else "ticker.txt"], nl=False)


@cli.command()
@click.option("--date", "day", type=DAY, help="The day the charts end on [default: today in Minsk].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Charts folder [default: charts.dir].")
@click.option("--currency", "codes", type=CODE, multiple=True, help="Chart this currency (repeatable) [default: charts.currencies].")
@click.option("--days", "windows", type=click.IntRange(*configuration.WINDOW_DAYS), multiple=True,
              help="A window in days (repeatable) [default: charts.windows].")
@click.pass_obj
def chart(config, day, out, codes, windows):
    """Render the day's PNG trend charts into charts/YYYY-MM-DD/ and charts/latest/."""
    from .outputs import publish

    done = publish.build(config, day or days.today(), out, codes, windows)
    click.echo(f"{done.folder}: {' '.join(done.files)}")
    latest = done.folder.parent / publish.LATEST
    click.echo(f"{latest} -> {done.folder.name}" if done.latest else f"{latest} keeps a later day's set")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same as JSON.")
@click.pass_obj
@click.pass_context
def status(ctx, config, as_json):
    """One verdict, then coverage, gaps, the last fetch and the daemon's health; exit status 1 when stale."""
    import json

    from .service import health
    from .store import reader

    conn = _reader(config)
    today = days.today()
    rows = reader.coverage(conn)
    # The last day each has a rate in force, up to today: a monthly rate counts to the end of its month.
    last = {r["code"]: min(r["until"], max(r["last"], today.isoformat())) for r in rows}
    ended = reader.ended(conn, today)
    tracked = list(config.track.currencies)
    if config.track.all:
        tracked = reader.quoted_on(conn, today) or list(last)
    ok, error = reader.last_fetch(conn, "ok"), reader.last_fetch(conn, "error")
    daemon = health.read(conn)
    silent = health.stale(daemon, datetime.now(timezone.utc))
    bank = _bank_status(conn, config)
    well, verdict = health.verdict(today, last, tracked, ended, ok is not None, silent, bank and bank["failing"])
    stale = [code for code in tracked if code not in ended and last.get(code, "") < today.isoformat()]
    report = {
        "verdict": verdict,
        "ok": well,
        "config": str(config.file.absolute()) if config.file else None,
        "database": str(config.database.path),
        "charts": str(config.charts.dir),
        "today": today.isoformat(),
        "currencies": [dict(r) for r in rows],
        "last_success": dict(ok) if ok else None,
        "last_error": dict(error) if error else None,
        "stale": stale,
        "ended": {code: ended[code] for code in sorted(ended) if code in tracked or code in last},
        "daemon": dict(daemon) if daemon else None,
        "daemon_stale": silent,
    }
    if bank:
        report["bank"] = bank
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(verdict)
        click.echo(f"config        {report['config'] or 'none: defaults'}")
        click.echo(f"database      {report['database']}")
        click.echo(f"charts        {report['charts']}")
        click.echo(f"today         {today} (Europe/Minsk)")
        click.echo(f"last success  {_fetch_line(ok)}")
        click.echo(f"last error    {_fetch_line(error)}")
        if daemon:
            for label, value in _daemon_lines(daemon):
                click.echo(f"{label:<14}{value}")
        if bank:
            for label, value in _bank_lines(bank):
                click.echo(f"{label:<14}{value}")
        click.echo("code  rows   first       last        missing days")
        for r in rows:
            note = f"  ended: NBRB stopped quoting it after {ended[r['code']]}" if r["code"] in ended else ""
            note += f"  ({r['monthly']} set monthly)" if r["monthly"] else ""
            click.echo(f"{r['code']}  {r['rows']:<6} {r['first']}  {r['last']}  {r['missing']}{note}")
        for code in report["ended"]:
            if code not in last:
                click.echo(f"{code}  none   ended: NBRB stopped quoting it after {ended[code]}")
    if not well:
        ctx.exit(1)


def _bank_status(conn, config) -> dict | None:
    """The bank poll's data and health (issue 11): None when it is disabled and has never stored anything."""
    from .service import health
    from .store import reader

    last = reader.bank_last_poll(conn)
    job = next((dict(row) for row in health.jobs(conn) if row["job"] == "belarusbank"), None)
    if not config.belarusbank.enabled and last is None:
        return None
    failing = health.job_failing(job) if job and config.belarusbank.enabled else None
    return {"enabled": config.belarusbank.enabled, "last_answer": last, "job": job, "failing": failing}


def _bank_lines(bank):
    last = bank["last_answer"]
    yield "bank rates", (f"belarusbank: {last['points']} points, {last['quotes']} rates, last answer {last['finished_at']}"
                         if last else "belarusbank: none stored yet")
    job = bank["job"]
    if not bank["enabled"]:
        yield "bank poll", "disabled ([belarusbank] enabled = false)"
    elif job:
        yield "bank poll", (f"running since {job['running_since']}" if job["running_since"] else
                            f"next {job['next_run'] or 'never'}")
        for kind in ("success", "error"):
            yield f"bank {kind}", f"{job[f'last_{kind}_at']}  {job[f'last_{kind}']}" if job[f"last_{kind}"] else "none yet"


def _daemon_lines(row):
    state = f"{row['state']}, pid {row['pid']}, ticker {row['version']}, started {row['started_at']}"
    yield "daemon", state + (f", running {row['job']}" if row["job"] else "")
    yield "heartbeat", row["heartbeat_at"]
    if row["state"] == "running":
        yield "next poll", row["next_poll"] or "never"
        yield "next catch-up", row["next_catchup"] or "never"
    for kind in ("success", "error"):
        yield f"job {kind}", f"{row[f'last_{kind}_at']}  {row[f'last_{kind}']}" if row[f"last_{kind}"] else "none yet"


def _fetch_line(row) -> str:
    if row is None:
        return "never"
    outcome = row["error"] or f"{row['rows_new']} new, {row['rows_changed']} revised"
    return f"{row['finished_at']}  {row['kind']} {row['detail']}: {outcome}"


@cli.command()
@click.option("--log-level", type=click.Choice(configuration.LEVELS, case_sensitive=False),
              help="DEBUG, INFO, WARNING or ERROR [default: log.level].")
@click.pass_context
def run(ctx, log_level):
    """Run the daemon in the foreground: catch up, then keep the database current on the schedule."""
    from .service.daemon import run as daemon

    db = ctx.find_root().params["db"]
    daemon(ctx.obj, log_level and log_level.upper(), lambda: configuration.load(ctx.obj.file, db))


@cli.command()
def schema():
    """The SQL schema of the database."""
    from .store.schema import schema_sql

    click.echo(schema_sql(), nl=False)


@cli.command("alerts")
@click.option("--test", "send_test", is_flag=True, help="Send a test message to every target and say how each went.")
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True, help="Recent events to list.")
@click.pass_obj
def alerts_(config, send_test, limit):
    """The [[alerts]] rules and their recent events; --test sends a test message to each target."""
    from .config import target
    from .errors import AlertError
    from .outputs import alerts

    if not config.alerts:
        click.echo(f"No alerts in {config.file or 'the default configuration'}: add [[alerts]] tables (README: Alerts).")
        return
    if send_test:
        done = alerts.send_test(config, lambda d: click.echo(f"{d.target}  {f'failed: {d.error}' if d.error else 'delivered'}"))
        failed = sum(1 for d in done if d.error)
        if failed:
            raise AlertError(f"{failed} of {len(done)} test messages failed")
        return
    click.echo(f"Rules in {config.file}:")
    for alert in config.alerts:
        click.echo(f"  #{alert.number}  {alert.rule:<20}  {', '.join(target(url) for url in alert.notify)}")
    events = []
    if config.database.path.is_file():
        conn = _reader(config)
        try:
            events = alerts.recent(conn, limit)
        finally:
            conn.close()
    click.echo("Recent events, newest first:" if events else "No events yet.")
    for text in alerts.described(events):
        click.echo(text)


@cli.command()
@click.option("--date", "day", type=DAY, help="The day [default: today in Minsk]; tomorrow once NBRB has published it.")
@click.option("--json", "as_json", is_flag=True, help="Exact values as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@click.option("--spreadsheet", is_flag=True, help="CSV for a Russian-locale spreadsheet: semicolons, decimal commas, a BOM.")
@click.pass_obj
def table(config, day, as_json, as_csv, spreadsheet):
    """The official table of a day: every currency's scale, rate and change against the day before."""
    from .outputs import table as tables

    if as_json + as_csv + spreadsheet > 1:
        raise click.UsageError("choose one of --json, --csv and --spreadsheet")
    found = tables.build(_reader(config), day or days.today())
    if as_json:
        import json

        click.echo(json.dumps(tables.as_json(found), indent=2, ensure_ascii=False))
    elif as_csv or spreadsheet:
        tables.write_csv(found, click.get_text_stream("stdout"), spreadsheet)
    else:
        click.echo(tables.text(found), nl=False)


@cli.command()
@click.argument("code", type=CODE)
@click.option("--city", default="Минск", show_default=True, help="The city, as the bank writes it (any case).")
@click.option("--json", "as_json", is_flag=True, help="Exact values, every point at the best rates, as JSON.")
@click.pass_obj
def bank(config, code, city, as_json):
    """Best bank buy and sell rates now in a city, where, and NBRB's official rate beside them."""
    from .errors import NoData
    from .outputs import banks
    from .store import reader

    if not Path(config.database.path).is_file():
        raise NoData(f"no database at {config.database.path}; run `ticker bank-fetch` first")
    rates = reader.bank_rates(_reader(config), code, city)
    click.echo(banks.as_json(rates) if as_json else banks.table(rates), nl=False)


@cli.command("bank-fetch")
@click.pass_obj
def bank_fetch(config):
    """Record Belarusbank's buy and sell rates now, once (`ticker run` polls on [belarusbank] schedule)."""
    from . import bank_sync, sources

    done = bank_sync.poll(config)
    for line in done.refused:
        click.echo(f"Warning: {line}", err=True)
    click.echo(f"{sources.get(done.bank).short}: {done.points} points, {done.quotes} rates stored: "
               f"{done.changed} new or changed, {done.ended} no longer quoted")
    if any(alert.side for alert in config.alerts):
        # As the daemon does after a poll: whoever stores new bank rates tells, exactly once.
        from .outputs import alerts

        alerts.run(config, say=lambda delivery: click.echo(delivery.line, err=bool(delivery.error)))


@cli.command()
@click.pass_context
def init(ctx):
    """Write a commented config, every key at its default, where ticker reads it (or at --config)."""
    from . import paths, template

    params = ctx.find_root().params
    if params["db"]:
        raise click.BadParameter("init writes a config; set [database] path in it instead", param_hint="--db")
    written = template.write(configuration.find(params["config_file"]) or paths.config_file())
    config = configuration.load(written, notify=False)
    click.echo(f"Wrote {written.absolute()}: every key at its default, commented out")
    click.echo(f"database  {config.database.path}")
    click.echo(f"charts    {config.charts.dir}")


@cli.command()
@click.argument("file", metavar="FILE")
@click.pass_obj
def backup(config, file):
    """A consistent copy of the live database into FILE, even while the daemon writes, checked and renamed into place."""
    from .store.backup import backup as copy

    done = copy(config.database.path, file)
    click.echo(f"{done.path}: {done.rates} rates, {_size(done.size)}, integrity_check ok")


def _size(size: int) -> str:
    """Bytes as a person reads them: 4.2 MB."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
