"""The configuration: `config.toml`, every key optional, validated before anything runs."""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from .errors import ConfigError
from .model import PER_BYN, code

ENV_VAR = "TICKER_CONFIG"
DEFAULT_FILE = "config.toml"


def _url(value):
    if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value):
        return value.rstrip("/")
    raise ValueError(f"expected an http:// or https:// URL, got {value!r}")


def _positive(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError(f"expected a positive number, got {value!r}")


def _count(value):
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 20:
        return value
    raise ValueError(f"expected a whole number from 0 to 20, got {value!r}")


def _precision(value):
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8:
        return value
    raise ValueError(f"expected a whole number from 0 to 8, got {value!r}")


WINDOW_DAYS = (7, 3660)  # a chart window: a week to ten years


def _windows(value):
    low, high = WINDOW_DAYS
    if (isinstance(value, list) and value
            and all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)):
        return tuple(value)
    raise ValueError(f"expected a non-empty list of whole numbers of days from {low} to {high}, got {value!r}")


def _path(value):
    if isinstance(value, str) and value:
        return Path(value)
    raise ValueError(f"expected a file path, got {value!r}")


def _date(value):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a date like 2016-07-01, got {value!r}") from None


def _codes(value):
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a non-empty list of currency codes, got {value!r}")
    codes = tuple(code(item) for item in value)
    roubles = [c for c in codes if c in PER_BYN]
    if roubles:
        raise ValueError(f"{roubles[0]} is a Belarusian rouble, the unit every rate is in, not a currency with a rate")
    return codes


ALL = ("*",)  # track.currencies meaning every currency the source quotes: test `config.track.all`


def _codes_or_all(value):
    return ALL if value == ["*"] else _codes(value)


def _zone(value):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
        return value
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"expected a time zone name like Europe/Minsk, got {value!r}") from None


POLL, CATCHUP = "*/20 12-16 * * mon-sat", "7 0 * * *"


def _crontab(value):
    """A crontab string (minute hour day month day-of-week), checked by the scheduler that will run it."""
    if not isinstance(value, str):
        raise ValueError(f"expected a crontab string like {POLL!r}, got {value!r}")
    fields = value.split()
    if len(fields) == 5 and any(c.isdigit() for c in fields[4]):
        # APScheduler counts 0 = Monday where cron counts 0 = Sunday: names cannot be misread.
        raise ValueError(f"{value!r}: write the days of the week as names (mon-fri), not numbers")
    if value in (POLL, CATCHUP):
        return value  # known good: spares read-only commands the scheduler's import
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone=ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    return value


def _bool(value):
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def _cities(value):
    """Locality names as the bank writes them ("Минск"), or ["*"] for every one."""
    if value == ["*"]:
        return ALL
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    raise ValueError(f'expected a non-empty list of city names like ["Минск"], or ["*"], got {value!r}')


def _schedule(value):
    """A crontab, or "" for the source's own schedule."""
    return value if value == "" else _crontab(value)


BANK_OUTPUTS = ("page", "ticker", "charts")  # where the best bank rates can show beside the official ones
AUTO = "auto"


def _outputs(value):
    """ "auto", or a list of BANK_OUTPUTS (maybe empty)."""
    if value == AUTO:
        return AUTO
    if isinstance(value, list) and all(isinstance(v, str) and v in BANK_OUTPUTS for v in value):
        return tuple(dict.fromkeys(value))
    raise ValueError(f'expected "auto" or a list of {", ".join(map(repr, BANK_OUTPUTS))}, got {value!r}')


def shows_banks(config, output: str) -> str | None:
    """The city whose best bank rates `output` ("page", "ticker", "charts") shows, or None when it shows none."""
    return config.banks.city if output in config.banks.outputs else None


def _city(value):
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f'expected a city name as the bank writes it, like "Минск", got {value!r}')


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _level(value):
    if isinstance(value, str) and value.upper() in LEVELS:
        return value.upper()
    raise ValueError(f"expected one of {', '.join(LEVELS)}, got {value!r}")


@dataclass(frozen=True)
class Key:
    default: Any
    check: Callable[[Any], Any]
    doc: str


def _bank(short: str, base_url: str, cities: bool = True) -> dict[str, Key]:
    """A bank source's section: the same keys and checks for every bank. `cities` only for a feed
    that says which city each point is in."""
    keys = {
        "enabled": Key(False, _bool, f"whether `ticker run` polls {short}'s buy and sell rates"),
        "base_url": Key(base_url, _url, f"{short} API root (a mirror, proxy or local server)"),
        "timeout": Key(15, _positive, "seconds to wait for each response"),
        "retries": Key(4, _count, "retries on connection errors, timeouts, 5xx and 429"),
        "backoff": Key(0.5, _positive, "seconds before the second retry, doubling after each"),
        "schedule": Key("", _schedule, 'crontab (day names) of the polls; "" for the source\'s own'),
    }
    if cities:
        keys["cities"] = Key(ALL, _cities, 'cities to keep, as the bank writes them (["Минск"]), or ["*"] for all')
    return keys


# The schema as data: later features add their sections here, and README/tests read it.
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "path": Key(Path("db/rates.sqlite"), _path, "SQLite file, relative to the config file's folder"),
    },
    "nbrb": {
        "base_url": Key("https://api.nbrb.by", _url, "NBRB API root (a mirror, proxy or local server)"),
        "timeout": Key(15, _positive, "seconds to wait for each response"),
        "retries": Key(4, _count, "retries on connection errors, timeouts, 5xx, 429 and damaged answers"),
        "backoff": Key(0.5, _positive, "seconds before the second retry, doubling after each"),
    },
    "track": {
        "currencies": Key(ALL, _codes_or_all, 'codes to record, or ["*"] for every NBRB currency, daily and monthly'),
        "since": Key(date(2016, 7, 1), _date, "first day to backfill"),
    },
    "charts": {
        "dir": Key(Path("charts"), _path, "output folder for charts and ticker files, relative to the config file's folder"),
        "currencies": Key(("USD", "EUR", "RUB"), _codes, "currencies with a trend chart for each window"),
        "windows": Key((30, 365), _windows, "chart windows in days; 180 or more adds a 30-day moving average"),
    },
    "line": {
        "currencies": Key(("RUB", "USD", "EUR"), _codes, "the header line's currencies, in order"),
        "precision": Key(2, _precision, "decimals shown in the header line"),
    },
    "schedule": {
        "timezone": Key("Europe/Minsk", _zone, "the zone the schedule's hours are in"),
        "poll": Key(POLL, _crontab, "crontab (day names) of the polls for the next day's rates"),
        "catchup": Key(CATCHUP, _crontab, "crontab of the daily catch-up that fills any gap"),
        "retry": Key(60, _positive, "seconds before retrying a failed catch-up, doubling up to an hour while nothing is stored"),
    },
    "log": {
        "level": Key("INFO", _level, "DEBUG, INFO, WARNING or ERROR (`ticker run --log-level` overrides)"),
    },
    "belarusbank": _bank("Belarusbank", "https://belarusbank.by"),
    # The other banks' feeds (issue 19): only MTBank's says which city each point is in.
    "mtbank": _bank("MTBank", "https://www.mtbank.by"),
    "belgazprombank": _bank("Belgazprombank", "https://belgazprombank.by", cities=False),
    "alfabank": _bank("Alfa-Bank", "https://developerhub.alfabank.by:8273", cities=False),
    "dabrabyt": _bank("Dabrabyt", "https://bankdabrabyt.by", cities=False),
    "banks": {
        "show": Key(AUTO, _outputs, 'where the best bank buy and sell rates show beside the official ones: "page",'
                                     ' "ticker", "charts"; "auto": all three while [belarusbank] enabled, else none'),
        "city": Key("Минск", _city, "the city whose best bank rates the page, ticker files, charts and alerts show"),
    },
}


# -- [[alerts]]: an array of tables, one rule each -------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One condition of one [[alerts]] table, and whom to tell when it fires.

    A table with `above`, `below` and `move_percent` gives three conditions with its `notify`.
    `rule` (the condition in words) is what identifies it in the `alert_events` table.
    """

    number: int  # the table's place in the file, from 1: [[alerts]] #number
    kind: str  # above, below, move or published
    source: str  # where the watched rate comes from: "nbrb", the official rates, or a bank ("belarusbank")
    code: str | None  # the currency; None for published
    level: Decimal | None  # BYN per 1 unit (above, below), or percent (move)
    notify: tuple[str, ...]  # Apprise URLs: secrets inside, never logged whole
    side: str | None = None  # a bank rule: the best "buy" or "sell" rate of the city
    city: str | None = None  # a bank rule: the city, as the bank writes it

    @property
    def rule(self) -> str:
        if self.kind == "published":
            return "published"
        if self.kind == "move":
            return f"{self.code} moves {self.level}%"
        if self.side:
            return f"{self.code} best {self.side} in {self.city} {self.kind} {self.level}"
        return f"{self.code} {self.kind} {self.level}"


def _positive_decimal(value) -> Decimal | None:
    """A positive finite number from the TOML (read with Decimal floats), or None."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = Decimal(value)
        if value.is_finite() and value > 0:  # nan and inf are TOML floats too
            return value
    return None


def _level(value):
    if (level := _positive_decimal(value)) is not None:
        return level
    raise ValueError(f"expected a positive number like 3.00, got {_shown(value)}")


def _percent(value):
    if (percent := _positive_decimal(value)) is not None:
        return percent
    raise ValueError(f"expected a positive percentage like 1.0, got {_shown(value)}")


def _side(value):
    if value in ("buy", "sell"):
        return value
    raise ValueError(f'expected "buy" (the bank buys the currency) or "sell" (it sells it), got {_shown(value)}')


def _true(value):
    if value is True:
        return True
    raise ValueError(f"expected true (leave the key out otherwise), got {_shown(value)}")


SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def _urls(value):
    if (isinstance(value, list) and value
            and all(isinstance(v, str) and SCHEME.match(v) for v in value)):
        return tuple(value)
    # Never echo a URL: it may hold a password or a token.
    raise ValueError('expected a non-empty list of Apprise URLs like ["mailto://user:pass@example.org"]')


def _shown(value) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


# The keys of an [[alerts]] table, as data: README and its test read them like SCHEMA's.
ALERT_KEYS: dict[str, Key] = {
    "currency": Key(None, code, "the currency watched, at its official NBRB rate (or with `bank`, a bank's)"),
    "above": Key(None, _level, "fires when the rate rises above this many BYN per 1 unit"),
    "below": Key(None, _level, "fires when the rate falls below this many BYN per 1 unit"),
    "move_percent": Key(None, _percent, "fires when the rate moves at least this many percent from the day before"),
    "published": Key(None, _true, "true: fires when the next days' rates are published"),
    "notify": Key(None, _urls, "Apprise URLs to deliver to"),
    "bank": Key(None, _side, '"buy" or "sell": watch the best bank rate of that side in a city instead'),
    "city": Key(None, _city, "with `bank`: the city, as the bank writes it [default: [banks] city]"),
}
LEVELS_OF = {"above": "above", "below": "below", "move_percent": "move"}  # key -> event kind
TABLES = ("alerts",)  # arrays of tables, beside SCHEMA's sections of keys


def _alerts(tables, name: str, config) -> tuple[Alert, ...]:
    """Every condition of every [[alerts]] table, checked; a ConfigError names the table and key."""
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{name}: alerts: expected [[alerts]] tables (an array of tables), "
                          f"not {'an [alerts] table' if isinstance(tables, dict) else 'a value'}")
    alerts = []
    for number, table in enumerate(tables, 1):
        where = f"{name}: [[alerts]] #{number}"
        values = {}
        for key, given in table.items():
            if key not in ALERT_KEYS:
                raise ConfigError(f"{where} {key}: unknown key (known: {', '.join(ALERT_KEYS)})")
            try:
                values[key] = ALERT_KEYS[key].check(given)
            except ValueError as exc:
                raise ConfigError(f"{where} {key}: {exc}") from None
        if "notify" not in values:
            raise ConfigError(f"{where} notify: missing: the Apprise URLs to deliver to")
        alerts += _rule(values, number, where, config)
    return tuple(alerts)


def _rule(values: dict, number: int, where: str, config) -> list[Alert]:
    """The table's conditions, by the rule's keys: `published`, or a `currency` and its levels.

    A rule on another source's rates (a bank's buy or sell) is one more branch here.
    """
    notify, track = values["notify"], config.track
    levels = [key for key in LEVELS_OF if key in values]
    if "published" in values:
        if "currency" in values or levels:
            extra = ", ".join(k for k in ("currency", *levels) if k in values)
            raise ConfigError(f"{where}: published = true cannot be combined with {extra}: "
                              "give a rule on a currency an [[alerts]] table of its own")
        missing = [c for c in config.line.currencies if not track.all and c not in track.currencies]
        if missing:  # the message is the header line: it would never be complete
            raise ConfigError(f"{where} published: the header line shows {', '.join(missing)}, which "
                              f"{'is' if len(missing) == 1 else 'are'} not recorded: add to [track] currencies, "
                              "or change [line] currencies")
        return [Alert(number, "published", "nbrb", None, None, notify)]
    if "currency" not in values:
        raise ConfigError(f"{where}: nothing to watch: give a currency with above, below or move_percent, "
                          "or published = true")
    currency = values["currency"]
    if not levels:
        raise ConfigError(f"{where}: {currency}: give above, below or move_percent")
    if "bank" in values:
        return _bank_rule(values, levels, number, where, config)
    if "city" in values:
        raise ConfigError(f'{where} city: a city is for a bank rule: add bank = "buy" or "sell"')
    if not track.all and currency not in track.currencies:
        raise ConfigError(f"{where} currency: {currency} is not recorded: add it to [track] currencies")
    return [Alert(number, LEVELS_OF[key], "nbrb", currency, values[key], notify) for key in levels]


def _bank_rule(values: dict, levels: list[str], number: int, where: str, config) -> list[Alert]:
    """A rule on a city's best bank rate: "USD best sell in Минск below 2.90", crossing levels only.

    Bank rates are not tracked currencies: whatever the bank quotes is recorded.
    """
    if "move_percent" in levels:
        raise ConfigError(f"{where} move_percent: a bank rule takes above or below (move_percent watches the"
                          " official rate from one day to the next)")
    city = values.get("city", config.banks.city)
    return [Alert(number, LEVELS_OF[key], "belarusbank", values["currency"], values[key], values["notify"],
                  values["bank"], city) for key in levels]


def check_notify(alerts: tuple[Alert, ...], name: str) -> None:
    """Ask Apprise whether it can deliver to every `notify` URL: a known scheme, a usable URL,
    and no two URLs that look the same once masked (ticker records deliveries by that form).

    Loads Apprise and its plugins (a few hundred ms): only the commands that deliver call it.
    """
    if not alerts:
        return
    import apprise

    known, seen = apprise.NotificationManager(), {}
    for alert in alerts:
        for n, url in enumerate(alert.notify, 1):
            scheme = url.split("://", 1)[0].lower()
            which = f"[[alerts]] #{alert.number} notify: URL {n} ({scheme}://...)"
            where = f"{name}: {which}"
            if scheme not in known:
                raise ConfigError(f"{where}: unknown Apprise scheme {scheme}://")
            if apprise.Apprise.instantiate(url) is None:
                raise ConfigError(f"{where}: Apprise cannot use this URL (see the form Apprise documents for {scheme}://)")
            shown = target(url)
            if seen.setdefault(shown, (url, which))[0] != url:
                raise ConfigError(f"{where}: masked, it reads {shown} like {seen[shown][1]}; "
                                  "ticker could not tell their deliveries apart")


def target(url: str) -> str:
    """A notify URL as ticker shows and records it: Apprise's privacy form (passwords and tokens
    masked) without the options after `?`, e.g. mailto://user:****@example.org/."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://..."
    return plugin.url(privacy=True).split("?", 1)[0]


class Config(SimpleNamespace):
    """Sections as attributes: `config.nbrb.timeout`; `config.file` is where it came from."""


def find(explicit: str | None = None) -> Path | None:
    """The config file to read: --config, else $TICKER_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    local = Path(DEFAULT_FILE)
    return local if local.exists() else None


def load(file: Path | None = None, db: str | None = None, notify: bool = True) -> Config:
    """Read and validate the config; defaults fill every missing key.

    `notify=False` skips asking Apprise about the [[alerts]] URLs (their form is still checked):
    for the commands that never deliver, which then need not load Apprise.
    """
    raw: dict = {}
    text = ""
    name = str(file) if file else "(defaults)"
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(f"{name}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: TOML syntax: {exc}") from None
    base = Path(file).resolve().parent if file else Path.cwd()
    config = Config(file=Path(file) if file else None)
    for section, given in raw.items():
        if section in TABLES:
            continue
        if section not in SCHEMA:
            raise ConfigError(f"{name}: unknown section [{section}] (known: {', '.join([*SCHEMA, *TABLES])})")
        if not isinstance(given, dict):
            raise ConfigError(f"{name}: {section}: expected a [{section}] table")
        for key in given:
            if key not in SCHEMA[section]:
                known = ", ".join(SCHEMA[section])
                raise ConfigError(f"{name}: [{section}] {key}: unknown key (known: {known})")
    for section, keys in SCHEMA.items():
        values = {}
        for key, spec in keys.items():
            given = raw.get(section, {})
            try:
                values[key] = spec.check(given[key]) if key in given else spec.default
            except ValueError as exc:
                raise ConfigError(f"{name}: [{section}] {key}: {exc}") from None
        setattr(config, section, SimpleNamespace(**values))
    config.track.all = config.track.currencies == ALL
    # Bank rates beside the official ones only while they are polled, unless asked for: a one-off
    # `ticker bank-fetch` goes stale within hours, and the ticker files are embedded in other sites.
    show = config.banks.show
    config.banks.outputs = (BANK_OUTPUTS if config.belarusbank.enabled else ()) if show == AUTO else show
    # Alert levels are money: read as written (3.00 is Decimal("3.00")), never through a binary float.
    exact = tomllib.loads(text, parse_float=Decimal) if "alerts" in raw else {}
    config.alerts = _alerts(exact["alerts"], name, config) if exact else ()
    if notify:
        check_notify(config.alerts, name)
    if db:
        config.database.path = Path(db).resolve()
    elif not config.database.path.is_absolute():
        config.database.path = base / config.database.path
    config.charts.dir = base / config.charts.dir
    return config
