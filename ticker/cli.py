"""The `ticker` command line: one click group, heavy imports inside the commands that need them."""

import errno
import functools
import os
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from . import days
from . import config as configuration
from .errors import DatabaseError, TickerError, printable, printable_json
from .model import PRECISION


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


# Options several commands share, each written once: the same name, type and words everywhere.
def date_option(help_text: str = "The day [default: today in Minsk]."):
    return click.option("--date", "day", type=DAY, help=help_text)


def json_option(help_text: str = "Exact values as JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def currency_option(help_text: str = "Only this currency (repeatable)."):
    return click.option("--currency", "codes", type=CODE, multiple=True, help=help_text)


def bank_option(help_text: str):
    """--bank ID, repeatable: one of the bank sources (`ticker sources` lists them)."""
    from .sources import BANKS

    return click.option("--bank", "banks", type=click.Choice(BANKS), multiple=True, help=help_text)


def precision_option(**kwargs):
    return click.option("--precision", type=click.IntRange(*PRECISION), **kwargs)


def range_options(since_help: str, until_help: str):
    """--since and --until, checked together: an inverted range is a usage error in every command."""
    def decorate(command):
        @functools.wraps(command)
        def checked(*args, since=None, until=None, **kwargs):
            if since and until and since > until:
                raise click.BadParameter(f"{since} is after --until {until}", param_hint="--since")
            return command(*args, since=since, until=until, **kwargs)

        return click.option("--since", type=DAY, help=since_help)(click.option("--until", type=DAY, help=until_help)(checked))
    return decorate


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


def _store(config):
    from .store.writer import Store

    return Store(config.database.path)


def _reader(config):
    from .store import reader

    return reader.connect(config.database.path)


def _said(part) -> None:
    """A list's part of a backfill, one line per currency, naming the list when it is not the daily one."""
    from .sources import DEFAULT

    which = "" if part.source.id == DEFAULT else f" ({part.source.listing})"
    for code, (new, changed) in sorted(part.summary.items()):
        click.echo(f"{code}  {new} new, {changed} revised{which}")


def _warn(notes):
    """What a person should know that is no failure (an ended currency, say): one line each, on stderr."""
    for note in notes:
        click.echo(f"Warning: {printable(note)}", err=True)


def _deliver(config) -> None:
    """As the daemon does after new rates: whoever stores them first tells, exactly once."""
    from .alerts import delivery

    delivery.run(config, say=lambda done: click.echo(done.line, err=bool(done.error)))


@cli.command()
@click.option("--date", "dates", type=DAY, multiple=True, help="A day to fetch (repeatable). Default: today and later published days.")
@click.pass_obj
def fetch(config, dates):
    """Record the rates in force on a day for the tracked currencies, then deliver any alert."""
    from . import sync

    store = _store(config)
    try:
        run = sync.fetch(config, store, list(dates) or None)
    finally:
        store.close()
    for day, new, changed in run.report:
        # By code, and shaped as `ticker rate` shows a rate: NBRB lists them by their Russian names.
        lines = [(r.code, f"{r.scale} {r.code} = {r.rate} {r.unit}  new") for r in new]
        lines += [(r.code, f"{r.scale} {r.code} = {r.rate} {r.unit}  revised from {old}") for r, old in changed]
        for _, text in sorted(lines):
            click.echo(f"{day}  {text}")
        if not lines:
            click.echo(f"{day}  nothing new")
    for part in run.parts[1:]:
        _said(part)
    _warn(run.notes)
    if config.alerts:
        _deliver(config)
    if run.failure:
        raise run.failure


@cli.command()
@range_options("First day [default: track.since].", "Last day [default: the last day NBRB has published].")
@currency_option()
@click.pass_obj
def backfill(config, since, until, codes):
    """Fill every missing day from NBRB's history, daily and monthly lists; safe to interrupt and re-run."""
    from . import sources, sync

    if since and until is None and since > days.today():
        from .errors import BadRange

        raise BadRange(f"--since {since} is after today ({days.today()}); `ticker fetch` records the days NBRB "
                       "has already published after today")
    bars, stored = {}, {}

    def progress(source, state):
        stored[source.id] = state.stored
        bar = bars.get(source.id)
        if bar is None and sys.stderr.isatty():
            label = "Backfilling" if source.id == sources.DEFAULT else f"Backfilling the {source.listing} list"
            bar = bars[source.id] = click.progressbar(length=state.days, label=label, file=sys.stderr).__enter__()
            for other in [b for key, b in bars.items() if key != source.id]:
                other.__exit__(None, None, None)
        if bar is not None:
            bar.update(state.days_done - bar.pos)

    store = _store(config)
    try:
        run = sync.catch_up(config, store, since, until, list(codes) or None, progress)
    except KeyboardInterrupt:
        raise click.ClickException(f"Interrupted: stored {sum(stored.values())} rates; run it again to finish") from None
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
        store.close()
    for part in run.parts:
        _said(part)
    if not any(part.summary for part in run.parts) and not run.failure:
        click.echo("Nothing missing.")
    _warn(run.notes)
    if run.failure:
        raise run.failure


@cli.command()
@click.argument("code", type=CODE)
@date_option()
@json_option()
@click.pass_obj
def rate(config, code, day, as_json):
    """The official rate in force on a day (a monthly currency's: the one set that month)."""
    from .model import MONTHLY, PER_BYN
    from .outputs import hints

    day = day or days.today()
    q = hints.rate(_reader(config), code, day)
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
@date_option("The day whose rates apply [default: today in Minsk].")
@precision_option(default=2, show_default=True, help="Decimals in the result.")
@click.pass_obj
def convert(config, amount, source, target, day, precision):
    """An amount at the official rates of a day (TO defaults to BYN): ticker convert 100 USD EUR."""
    from .outputs.convert import convert as conversion

    click.echo(conversion(_reader(config), amount, source, target, day or days.today()).text(precision))


def _output_file(given: str | None) -> Path | None:
    """--output as a file to write: a folder, or a file in a folder that does not exist, is a usage error."""
    if given is None:
        return None
    path = Path(given)
    if given.endswith(("/", os.sep)):
        raise click.BadParameter(f"{given} is a folder: name the file to write", param_hint="--output")
    if not path.parent.is_dir():
        raise click.BadParameter(f"{path}: there is no folder {path.parent} to write it in", param_hint="--output")
    return path


@contextmanager
def _output(path: Path | None):
    """Where an export goes: stdout, or `path` replaced atomically (a failed export leaves the old file)."""
    from . import files

    if path is None:
        yield sys.stdout
        return
    try:
        with files.replacing(path, "w", encoding="utf-8", newline="") as out:
            yield out
    except OSError as exc:
        raise click.FileError(str(path), exc.strerror or str(exc)) from None


@cli.command()
@click.option("--format", "format_", type=click.Choice(["csv", "spreadsheet", "json", "ndjson", "beancount", "ledger"]),
              default="csv", show_default=True,
              help="csv, spreadsheet (CSV for a Russian-locale spreadsheet), a JSON array, NDJSON, beancount or ledger prices.")
@range_options("First day [default: the first stored].", "Last day [default: the last stored].")
@currency_option()
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file, replaced atomically [default: stdout].")
@click.option("--bank", is_flag=True, help="The best bank buy and sell rates of each city and day instead: csv, spreadsheet, json or ndjson.")
@click.option("--city", "cities", multiple=True, help="With --bank: only this city, as the bank writes it (repeatable) [default: every city].")
@click.pass_obj
def export(config, format_, since, until, codes, output, bank, cities):
    """Every stored rate, streamed, for spreadsheets, scripts and ledgers."""
    from .outputs import export as exporting

    if cities and not bank:
        raise click.BadParameter("a city is for bank rates: add --bank", param_hint="--city")
    if bank and format_ not in exporting.BANK_FORMATS:
        raise click.BadParameter(f"--bank exports {', '.join(exporting.BANK_FORMATS[:-1])} or"
                                 f" {exporting.BANK_FORMATS[-1]}: a ledger takes one price a day, the official rate",
                                 param_hint="--format")
    output = _output_file(output)
    conn = _reader(config)
    with _output(output) as out:
        if bank:
            exporting.export_bank(conn, out, format_, cities, codes, since, until)
        else:
            exporting.export(conn, out, format_, codes, since, until)
    empty = (exporting.nothing_bank(conn, cities, codes, since, until) if bank
             else exporting.nothing(conn, codes, since, until))
    if empty:
        click.echo(empty, err=True)


@cli.command()
@date_option()
@precision_option(help="Decimals shown [default: line.precision].")
@json_option("Exact values, dates and changes as JSON.")
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
        from .outputs import publish

        day, shown = day or days.today(), publish.latest_day(config.charts.dir)
        if shown > day.isoformat():  # only forward, as `ticker chart`: latest/ is the newest day's
            click.echo(f"{config.charts.dir / publish.LATEST} keeps a later day's set ({shown}): "
                       f"the ticker files of {day} were not written", err=True)
        else:
            # Resolved once: a `latest` symlink swapped meanwhile cannot split the two files.
            folder = (config.charts.dir / publish.LATEST).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            tickerfiles.save(folder, files)
    click.echo(files["ticker.json" if as_json else "ticker.txt"], nl=False)


@cli.command()
@date_option("The day the charts end on [default: today in Minsk].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Charts folder [default: charts.dir].")
@currency_option("Chart this currency (repeatable) [default: charts.currencies].")
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
@json_option("The same as JSON.")
@click.pass_obj
@click.pass_context
def status(ctx, config, as_json):
    """One verdict, then coverage, gaps, the last fetch and the daemon's health; exit status 1 when stale."""
    from datetime import datetime, timezone

    from .service import health

    report = health.report(config, _reader(config), datetime.now(timezone.utc))
    if as_json:
        import json

        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(printable("\n".join(health.lines(report)), keep_newlines=True))
    if not report["ok"]:
        ctx.exit(1)


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
@click.option("--host", help="The address to listen on [default: serve.host].")
@click.option("--port", type=click.IntRange(0, 65535), help="The TCP port; 0 for any free one [default: serve.port].")
@click.pass_obj
def serve(config, host, port):
    """Serve the record over HTTP, read-only: Frankfurter's API, the native API, /metrics, the page."""
    from .serve.app import serve as serving

    serving(config, host or config.serve.host, config.serve.port if port is None else port)


@cli.command()
def schema():
    """The SQL schema of the database."""
    from .store.schema import schema_sql

    click.echo(schema_sql(), nl=False)


@cli.command("sources")
@json_option("The same as JSON.")
def sources_(as_json):
    """The sources ticker reads: what each gives, since when, when it publishes, what is unverified."""
    from .outputs import about

    click.echo(about.sources_json() if as_json else about.sources_text(), nl=False)


@cli.command("alerts")
@click.option("--test", "send_test", is_flag=True, help="Send a test message to every target and say how each went.")
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True, help="Recent events to list.")
@click.pass_obj
def alerts_(config, send_test, limit):
    """The [[alerts]] rules and their recent events; --test sends a test message to each target."""
    from .alerts import delivery
    from .alerts.rules import target
    from .errors import AlertError
    from .store import alerts as stored

    if not config.alerts:
        click.echo(f"No alerts in {config.file or 'the default configuration'}: add [[alerts]] tables (README: Alerts).")
        return
    if send_test:
        done = delivery.send_test(config, lambda d: click.echo(f"{d.target}  {f'failed: {d.error}' if d.error else 'delivered'}"))
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
            events = stored.recent(conn, limit)
        finally:
            conn.close()
    click.echo("Recent events, newest first:" if events else "No events yet.")
    for text in delivery.described(events):
        click.echo(printable(text))


@cli.command()
@date_option("The day [default: today in Minsk]; tomorrow once NBRB has published it.")
@json_option()
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

        click.echo(printable_json(json.dumps(tables.as_json(found), indent=2, ensure_ascii=False)))
    elif as_csv or spreadsheet:
        tables.write_csv(found, click.get_text_stream("stdout"), spreadsheet)
    else:
        click.echo(tables.text(found), nl=False)


@cli.command()
@click.argument("code", type=CODE)
@click.option("--city", default="Минск", show_default=True, help="The city, as the bank writes it (any case).")
@bank_option("Only this bank's rates (repeatable) [default: every bank in the database].")
@json_option("Exact values, every point at the best rates, as JSON.")
@click.pass_obj
def bank(config, code, city, banks, as_json):
    """Best buy and sell rates now in a city across the banks, which bank and where, and NBRB's rate beside them."""
    from .errors import NoData
    from .outputs import banks as answers, hints

    if not Path(config.database.path).is_file():
        raise NoData(f"no database at {config.database.path}; run `ticker bank-fetch` first")
    conn = _reader(config)
    hints.banks(conn)
    rates, elsewhere = answers.answer(conn, code, city, banks)
    click.echo(answers.as_json(rates, elsewhere) if as_json else answers.table(rates, elsewhere), nl=False)


@cli.command("bank-fetch")
@bank_option("Poll this bank (repeatable) [default: every bank enabled in the config, else belarusbank].")
@click.pass_obj
@click.pass_context
def bank_fetch(ctx, config, banks):
    """Record the banks' buy and sell rates now, once each (`ticker run` polls each enabled bank on its schedule)."""
    from . import sources
    from .sync import banks as bank_sync

    from .errors import SourceError

    failed, polled = [], 0
    for bank in banks or configuration.polled_banks(config):
        try:
            done = bank_sync.poll(config, bank)
        except SourceError as exc:  # one bank failing never keeps the others from being polled
            failed.append(exc)
            click.echo(f"Error: {exc}", err=True)
            continue
        for line in done.refused:
            click.echo(f"Warning: {printable(line)}", err=True)
        click.echo(f"{sources.get(done.bank).short}: {done.points} points, {done.rates} rates stored: "
                   f"{done.changed} new or changed, {done.ended} no longer quoted")
        polled += 1
    if polled and any(alert.side for alert in config.alerts):
        _deliver(config)
    if failed:
        ctx.exit(failed[0].exit_code)


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
