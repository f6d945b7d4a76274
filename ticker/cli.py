"""The `ticker` command line: one click group, heavy imports inside the commands that need them."""

import json
import sys
from datetime import date

import click

from . import __version__, config as configuration, days
from .errors import TickerError


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


DAY, CODE = Day(), Code()


class Group(click.Group):
    """Turns the package's typed errors into one line and their exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
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
    from . import query

    return query.connect(config.database.path)


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
    from . import query

    q = query.rate(_reader(config), code, day or days.today())
    byn = q.rate / days.PER_BYN[q.unit]
    if as_json:
        click.echo(json.dumps({
            "code": q.code, "date": q.date.isoformat(), "scale": q.scale, "rate": str(q.rate),
            "unit": q.unit, "cur_id": q.cur_id, "byn_per_unit": str(q.byn_per_unit),
        }, indent=2))
        return
    old = f" ({byn} BYN after the redenomination)" if q.unit != "BYN" else ""
    click.echo(f"{q.date}  {q.scale} {q.code} = {q.rate} {q.unit}{old}  (NBRB Cur_ID {q.cur_id})")


@cli.command()
@click.option("--date", "day", type=DAY, help="The day [default: today in Minsk].")
@click.option("--precision", type=click.IntRange(0, 8), help="Decimals shown [default: line.precision].")
@click.option("--json", "as_json", is_flag=True, help="Exact values, dates and changes as JSON.")
@click.pass_obj
def line(config, day, precision, as_json):
    """The header line: RUB 3.78 BYN · USD 3.00 BYN · EUR 3.42 BYN."""
    from . import line as header

    day = day or days.today()
    precision = config.line.precision if precision is None else precision
    found = header.items(_reader(config), config.line.currencies, day)
    if as_json:
        click.echo(json.dumps(header.as_json(found, day, precision), indent=2, ensure_ascii=False))
    else:
        click.echo(header.text(found, precision))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same as JSON.")
@click.pass_obj
@click.pass_context
def status(ctx, config, as_json):
    """Coverage, gaps and the last fetch; exit status 1 when stale."""
    from . import query

    conn = _reader(config)
    today = days.today()
    rows = query.coverage(conn)
    tracked = config.track.currencies
    if tracked == ("*",):
        tracked = query.quoted_on(conn, today) or [r["code"] for r in rows]
    last = {r["code"]: r["last"] for r in rows}
    stale = [code for code in tracked if last.get(code, "") < today.isoformat()]
    ok, error = query.last_fetch(conn, "ok"), query.last_fetch(conn, "error")
    report = {
        "database": str(config.database.path),
        "today": today.isoformat(),
        "currencies": [dict(r) for r in rows],
        "last_success": dict(ok) if ok else None,
        "last_error": dict(error) if error else None,
        "stale": stale,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"database      {report['database']}")
        click.echo(f"today         {today} (Europe/Minsk)")
        click.echo(f"last success  {_fetch_line(ok)}")
        click.echo(f"last error    {_fetch_line(error)}")
        click.echo("code  rows   first       last        missing days")
        for r in rows:
            click.echo(f"{r['code']}  {r['rows']:<6} {r['first']}  {r['last']}  {r['missing']}")
        click.echo(f"stale: no rate for {today}: {', '.join(stale)}" if stale else "up to date")
    if stale:
        ctx.exit(1)


def _fetch_line(row) -> str:
    if row is None:
        return "never"
    outcome = row["error"] or f"{row['rows_new']} new, {row['rows_changed']} revised"
    return f"{row['finished_at']}  {row['kind']} {row['detail']}: {outcome}"


@cli.command()
def schema():
    """The SQL schema of the database."""
    from .store import schema_sql

    click.echo(schema_sql(), nl=False)
