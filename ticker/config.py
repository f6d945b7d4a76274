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

from . import paths
from .errors import ConfigError
from .model import PER_BYN, PRECISION, code

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
    low, high = PRECISION
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")


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


MINSK = "Europe/Minsk"


def _minsk(value):
    """[schedule] timezone, a key of older configs that still load: the schedule is always in Minsk
    time, NBRB's (its dates and publication hours are Minsk's), so only Europe/Minsk is accepted."""
    if value == MINSK:
        return value
    raise ValueError(f"the schedule is in Minsk time, NBRB's, whatever the machine's zone: remove the key"
                     f" (only {MINSK!r} is accepted), got {value!r}")


CATCHUP = "7 0 * * *"
CRON_FIELDS = ("minute", "hour", "day", "month", "day of week")


def _crontab(value):
    """A crontab string (minute hour day month day-of-week) in form: five fields, the days of the week
    as names. The scheduler checks the rest when `ticker run` builds its timetable (at start, on SIGHUP),
    so that the read-only commands never import it."""
    fields = value.split() if isinstance(value, str) else []
    if len(fields) != len(CRON_FIELDS) or not all(re.fullmatch(r"[\w*/,\-]+", f) for f in fields):
        raise ValueError(f"expected a crontab string of five fields ({', '.join(CRON_FIELDS)}) like "
                         f"'*/20 12-16 * * mon-sat', got {value!r}")
    if any(c.isdigit() for c in fields[4]):
        # APScheduler counts 0 = Monday where cron counts 0 = Sunday: names cannot be misread.
        raise ValueError(f"{value!r}: write the days of the week as names (mon-fri), not numbers")
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
    """A crontab, or "" for the source's own schedule (its `Schedule.poll`)."""
    return value if value == "" else _crontab(value)


def _hosts(value):
    if isinstance(value, list) and all(isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9.-]+", v) for v in value):
        return tuple(v.lower() for v in value)
    raise ValueError(f'expected a list of host names like ["www.nbrb.by"], got {value!r}')


def _megabytes(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 4096:
        return value
    raise ValueError(f"expected a size in MB from 0 to 4096, got {value!r}")


def _source(short: str, base_url: str) -> dict[str, "Key"]:
    """The keys every source's section has: where it is, and how long, how often and how much to ask."""
    return {
        "base_url": Key(base_url, _url, f"{short} API root (a mirror, proxy or local server)"),
        "timeout": Key(15, _positive, "seconds each attempt may take in all: connecting, redirects and the whole answer"),
        "retries": Key(4, _count, "retries on connection errors, timeouts, 5xx, 429 and damaged answers"),
        "backoff": Key(0.5, _positive, "seconds before the second retry, doubling after each"),
        "max_answer_mb": Key(64, _megabytes, "the largest answer taken, in MB; a larger one is refused as damaged"),
        "redirect_hosts": Key((), _hosts, "hosts besides base_url's that a redirect may lead to (never https to http)"),
    }


def _bank(short: str, base_url: str, cities: bool = True) -> dict[str, "Key"]:
    """A commercial bank's section: a source's keys, whether the daemon polls it and when, and, for a
    feed that says which city each point is in, the cities to keep."""
    keys = {
        "enabled": Key(False, _bool, f"whether `ticker run` polls {short}'s buy and sell rates"),
        **_source(short, base_url),
        "schedule": Key("", _schedule, 'crontab (day names, Minsk time) of the polls; "" for the source\'s own'),
    }
    if cities:
        keys["cities"] = Key(ALL, _cities, 'cities to keep, as the bank writes them (["Минск"]), or ["*"] for all')
    return keys


BANK_OUTPUTS = ("page", "ticker", "charts")  # where the best bank rates can show beside the official ones
AUTO = "auto"


def _outputs(value):
    """ "auto", or a list of BANK_OUTPUTS (maybe empty)."""
    if value == AUTO:
        return AUTO
    if isinstance(value, list) and all(isinstance(v, str) and v in BANK_OUTPUTS for v in value):
        return tuple(dict.fromkeys(value))
    raise ValueError(f'expected "auto" or a list of {", ".join(map(repr, BANK_OUTPUTS))}, got {value!r}')


def enabled_banks(config) -> tuple[str, ...]:
    """The banks (source ids) whose section has enabled = true: those `ticker run` polls."""
    from .sources import BANKS

    return tuple(bank for bank in BANKS if getattr(config, bank).enabled)


def polled_banks(config) -> tuple[str, ...]:
    """The banks `ticker bank-fetch` polls by default: the enabled ones, or Belarusbank alone when
    none is (what it polled before there were other banks)."""
    return enabled_banks(config) or ("belarusbank",)


def shows_banks(config, output: str) -> str | None:
    """The city whose best bank rates `output` ("page", "ticker", "charts") shows, or None when it shows none."""
    return config.banks.city if output in config.banks.outputs else None


def city_name(value):
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f'expected a city name as the bank writes it, like "Минск", got {value!r}')


def _host(value):
    if isinstance(value, str) and value and not any(c.isspace() or c in "/[]" for c in value):
        return value
    raise ValueError(f'expected an address to listen on like "127.0.0.1", "0.0.0.0" or "::", got {value!r}')


def _port(value):
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    raise ValueError(f"expected a TCP port from 0 (any free one) to 65535, got {value!r}")


MAX_DAYS = (1, 36600)  # the longest range one request of `ticker serve` may ask for: a day to a century


def _max_days(value):
    low, high = MAX_DAYS
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise ValueError(f"expected a whole number of days from {low} to {high}, got {value!r}")


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


# The schema as data: later features add their sections here, and README/tests read it.
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "path": Key(Path("db/rates.sqlite"), _path, "SQLite file, relative to the config file's folder"),
    },
    "nbrb": _source("NBRB", "https://api.nbrb.by"),
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
        "poll": Key("", _schedule, 'crontab (day names, Minsk time) of the polls for the next day\'s rates; "" for'
                                   " NBRB's own"),
        "catchup": Key(CATCHUP, _crontab, "crontab of the daily catch-up that fills any gap"),
        "retry": Key(60, _positive, "seconds before retrying a failed catch-up, doubling up to an hour while nothing is stored"),
    },
    "log": {
        "level": Key("INFO", _level, "DEBUG, INFO, WARNING or ERROR (`ticker run --log-level` overrides)"),
    },
    "belarusbank": _bank("Belarusbank", "https://belarusbank.by"),
    # Only MTBank's feed says which city each point is in.
    "mtbank": _bank("MTBank", "https://www.mtbank.by"),
    "belgazprombank": _bank("Belgazprombank", "https://belgazprombank.by", cities=False),
    "alfabank": _bank("Alfa-Bank", "https://developerhub.alfabank.by:8273", cities=False),
    "dabrabyt": _bank("Dabrabyt", "https://bankdabrabyt.by", cities=False),
    "banks": {
        "show": Key(AUTO, _outputs, 'where the best bank buy and sell rates show beside the official ones: "page",'
                                     ' "ticker", "charts"; "auto": all three while any bank\'s section is enabled, else none'),
        "city": Key("Минск", city_name, "the city whose best bank rates the page, ticker files, charts and alerts show"),
    },
    "serve": {
        "host": Key("127.0.0.1", _host, "the address `ticker serve` listens on"),
        "port": Key(8080, _port, "the TCP port `ticker serve` listens on (0: any free port)"),
        "max_days": Key(3660, _max_days, "the longest date range one request may ask for, in days"),
    },
}


TABLES = ("alerts",)  # arrays of tables, beside SCHEMA's sections of keys: [[alerts]] (ticker.alerts.rules)


class Config(SimpleNamespace):
    """Sections as attributes: `config.nbrb.timeout`; `config.file` is where it came from."""


def find(explicit: str | None = None) -> Path | None:
    """The config file to read: --config, else $TICKER_CONFIG, else ./config.toml if present,
    else the user's (~/.config/ticker/config.toml on Linux) if present; None: the defaults."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    local = Path(DEFAULT_FILE)
    if local.exists():
        return local
    user = paths.config_file()
    return user if user.exists() else None


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
    base = Path(file).resolve().parent if file else None
    config = Config(file=Path(file) if file else None)
    legacy = raw.get("schedule", {}).pop("timezone", MINSK) if isinstance(raw.get("schedule"), dict) else MINSK
    try:
        _minsk(legacy)
    except ValueError as exc:
        raise ConfigError(f"{name}: [schedule] timezone: {exc}") from None
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
    config.banks.outputs = (BANK_OUTPUTS if enabled_banks(config) else ()) if show == AUTO else show
    config.alerts = ()
    if "alerts" in raw:
        from .alerts import rules

        # Alert levels are money: read as written (3.00 is Decimal("3.00")), never through a binary float.
        config.alerts = rules.parse(tomllib.loads(text, parse_float=Decimal)["alerts"], name, config)
        if notify:
            rules.check_notify(config.alerts, name)
    # Without a config, or with the user's own among their configs, the data go to the user's data folder.
    if file is None or paths.is_user_config(file):
        data = paths.data_dir()
        for (section, key), leaf in paths.DATA.items():
            if key not in raw.get(section, {}):
                setattr(getattr(config, section), key, data / leaf)
    if db:
        config.database.path = Path(db).resolve()
    elif not config.database.path.is_absolute():
        config.database.path = base / config.database.path
    if not config.charts.dir.is_absolute():
        config.charts.dir = base / config.charts.dir
    return config
