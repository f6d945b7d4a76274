"""The `ticker` command line: one click group, heavy imports inside the commands that need them."""

import sqlite3
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import click

from . import __version__, days
from . import config as configuration
from .errors import DatabaseError, TickerError


class Day(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2024-01-10", param, ctx)


class Code(click.ParamType):
    name = "CODE"

    def convert(self, value, param, ctx):
        try:
            return configuration.code(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Amount(click.ParamType):
    name = "AMOUNT"

    def convert(self, value, param, ctx):
        from decimal import Decimal, InvalidOperation

        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError):
            amount = None
        if amount is None or not amount.is_finite():
            self.fail(f"{value!r} is not an amount like 100 or 1250.50", param, ctx)
        return amount


DAY, CODE = Day(), Code()
AMOUNT = Amount()


class Group(click.Group):
    """Turns the package's typed errors, and SQLite's, into one line and their exit status."""

    def invoke(self, ctx):
        try:
            try:
                return super().invoke(ctx)
            except sqlite3.Error as exc:  # a locked, corrupt, foreign or unwritable file
                raise DatabaseError(f"{ctx.obj.database.path}: {exc}") from None
        except TickerError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


@click.group(cls=Group)
@click.version_option(__version__, "--version")
@click.option("--config", "config_file", metavar="PATH", help="Config file [env TICKER_CONFIG; default ./config.toml].")
@click.option("--db", metavar="PATH", help="SQLite file, overriding [database] path.")
@click.pass_context
def cli(ctx, config_file, db):
    """Official NBRB exchange rates of the Belarusian rouble, recorded into SQLite."""
    ctx.obj = configuration.load(configuration.find(config_file), db)


def _sync(config):
    from .sync import Sync

    return Sync(config)


def _reader(config):
    from .store import reader

    return reader.connect(config.database.path)


@cli.command()
@click.option("--date", "dates", type=DAY, multiple=True, help="A day to fetch (repeatable). Default: today and later published days.")
@click.pass_obj
def fetch(config, dates):
    """Record the rates in force on a day for the tracked currencies."""
    report = _sync(config).fetch(list(dates) or None)
    for day, new, changed in report:
        for r in new:
            click.echo(f"{day}  {r.code}  {r.rate} {r.unit} per {r.scale}  new")
        for r, old in changed:
            click.echo(f"{day}  {r.code}  {r.rate} {r.unit} per {r.scale}  revised from {old}")
        if not new and not changed:
            click.echo(f"{day}  nothing new")


@cli.command()
@click.option("--since", type=DAY, help="First day [default: track.since].")
@click.option("--until", type=DAY, help="Last day [default: today in Minsk].")
@click.option("--currency", "codes", type=CODE, multiple=True, help="Only this currency (repeatable).")
@click.pass_obj
def backfill(config, since, until, codes):
    """Fill every missing day from NBRB's history; safe to interrupt and re-run."""
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None and sys.stderr.isatty():
            bar = click.progressbar(length=total, label="Backfilling", file=sys.stderr).__enter__()
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        summary = _sync(config).backfill(since, until, list(codes) or None, progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for code, (new, changed) in sorted(summary.items()):
        click.echo(f"{code}  {new} new, {changed} revised")
    if not summary:
        click.echo("Nothing missing.")


@cli.command()
@click.argument("code", type=CODE)
@click.option("--date", "day", type=DAY, help="The day [default: today in Minsk].")
@click.option("--json", "as_json", is_flag=True, help="Exact values as JSON.")
@click.pass_obj
def rate(config, code, day, as_json):
    """The official rate in force on a day."""
    from .model import PER_BYN
    from .store import reader

    q = reader.rate(_reader(config), code, day or days.today())
    byn = q.rate / PER_BYN[q.unit]
    if as_json:
        import json

        click.echo(json.dumps({
            "code": q.code, "date": q.date.isoformat(), "scale": q.scale, "rate": str(q.rate),
            "unit": q.unit, "cur_id": q.cur_id, "byn_per_unit": str(q.byn_per_unit),
        }, indent=2))
        return
    old = f" ({byn} BYN after the redenomination)" if q.unit != "BYN" else ""
    click.echo(f"{q.date}  {q.scale} {q.code} = {q.rate} {q.unit}{old}  (NBRB Cur_ID {q.cur_id})")


@cli.command()
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
@click.option("--format", "format_", type=click.Choice(["csv", "json", "ndjson", "beancount", "ledger"]),
              default="csv", show_default=True, help="csv, a JSON array, NDJSON, beancount or ledger prices.")
@click.option("--since", type=DAY, help="First day [default: the first stored].")
@click.option("--until", type=DAY, help="Last day [default: the last stored].")
@click.option("--currency", "codes", type=CODE, multiple=True, help="Only this currency (repeatable).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file, replaced atomically [default: stdout].")
@click.pass_obj
def export(config, format_, since, until, codes, output):
    """Every stored rate, streamed, for spreadsheets, scripts and ledgers."""
    from .outputs import atomic
    from .outputs import export as exporting

    if since and until and since > until:
        raise click.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    conn = _reader(config)
    if output is None:
        exporting.export(conn, sys.stdout, format_, codes, since, until)
        return
    try:
        with atomic.replacing(output, "w", encoding="utf-8", newline="") as out:
            exporting.export(conn, out, format_, codes, since, until)
    except OSError as exc:
        raise click.FileError(str(output), exc.strerror or str(exc)) from None


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
    files = tickerfiles.render(_reader(config), config.line.currencies, day or days.today(), precision)
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
    """Coverage, gaps, the last fetch and the daemon's health; exit status 1 when stale."""
    import json

    from .service import health
    from .store import reader

    conn = _reader(config)
    today = days.today()
    rows = reader.coverage(conn)
    tracked = config.track.currencies
    if config.track.all:
        tracked = reader.quoted_on(conn, today) or [r["code"] for r in rows]
    last = {r["code"]: r["last"] for r in rows}
    stale = [code for code in tracked if last.get(code, "") < today.isoformat()]
    ok, error = reader.last_fetch(conn, "ok"), reader.last_fetch(conn, "error")
    daemon = health.read(conn)
    silent = health.stale(daemon, datetime.now(timezone.utc))
    report = {
        "database": str(config.database.path),
        "today": today.isoformat(),
        "currencies": [dict(r) for r in rows],
        "last_success": dict(ok) if ok else None,
        "last_error": dict(error) if error else None,
        "stale": stale,
        "daemon": dict(daemon) if daemon else None,
        "daemon_stale": silent,
    }
    bank = _bank_status(conn, config)
    if bank:
        report["bank"] = bank
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"database      {report['database']}")
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
            click.echo(f"{r['code']}  {r['rows']:<6} {r['first']}  {r['last']}  {r['missing']}")
        if silent:
            click.echo(f"stale: {silent}")
        click.echo(f"stale: no rate for {today}: {', '.join(stale)}" if stale else "up to date")
    if bank and bank["failing"]:
        ctx.exit(1)
    if stale or silent:
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
    if bank["failing"]:
        yield "stale:", bank["failing"]


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
               f"{done.new} new or changed, {done.closed} no longer quoted")
