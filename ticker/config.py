"""The configuration: `config.toml`, every key optional, validated before anything runs."""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from .errors import ConfigError

ENV_VAR = "TICKER_CONFIG"
DEFAULT_FILE = "config.toml"
CODE = re.compile(r"^[A-Z]{3}$")


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


def code(value) -> str:
    """A currency code as written by a person: three letters, any case."""
    if isinstance(value, str) and CODE.match(value.upper()):
        return value.upper()
    raise ValueError(f"expected a three-letter currency code, got {value!r}")


def _codes(value):
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a non-empty list of currency codes, got {value!r}")
    return tuple(code(item) for item in value)


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
    "nbrb": {
        "base_url": Key("https://api.nbrb.by", _url, "NBRB API root (a mirror, proxy or local server)"),
        "timeout": Key(15, _positive, "seconds to wait for each response"),
        "retries": Key(4, _count, "retries on connection errors, timeouts, 5xx and 429"),
        "backoff": Key(0.5, _positive, "seconds before the second retry, doubling after each"),
    },
    "track": {
        "currencies": Key(ALL, _codes_or_all, 'codes to record, or ["*"] for every daily NBRB currency'),
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
        "retry": Key(60, _positive, "seconds before retrying a failed catch-up, doubling up to an hour"),
    },
    "log": {
        "level": Key("INFO", _level, "DEBUG, INFO, WARNING or ERROR (`ticker run --log-level` overrides)"),
    },
    "belarusbank": {
        "enabled": Key(False, _bool, "whether `ticker run` polls Belarusbank's buy and sell rates"),
        "base_url": Key("https://belarusbank.by", _url, "Belarusbank API root (a mirror, proxy or local server)"),
        "timeout": Key(15, _positive, "seconds to wait for each response"),
        "retries": Key(4, _count, "retries on connection errors, timeouts, 5xx and 429"),
        "backoff": Key(0.5, _positive, "seconds before the second retry, doubling after each"),
        "schedule": Key("", _schedule, 'crontab (day names) of the polls; "" for the source\'s own'),
        "cities": Key(ALL, _cities, 'cities to keep, as the bank writes them (["Минск"]), or ["*"] for all'),
    },
}


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


def load(file: Path | None = None, db: str | None = None) -> Config:
    """Read and validate the config; defaults fill every missing key."""
    raw: dict = {}
    name = str(file) if file else "(defaults)"
    if file is not None:
        try:
            raw = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{name}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: TOML syntax: {exc}") from None
    base = Path(file).resolve().parent if file else Path.cwd()
    config = Config(file=Path(file) if file else None)
    for section, given in raw.items():
        if section not in SCHEMA:
            raise ConfigError(f"{name}: unknown section [{section}] (known: {', '.join(SCHEMA)})")
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
    if db:
        config.database.path = Path(db).resolve()
    elif not config.database.path.is_absolute():
        config.database.path = base / config.database.path
    config.charts.dir = base / config.charts.dir
    return config
