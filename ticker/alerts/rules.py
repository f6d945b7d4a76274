"""The [[alerts]] rules of config.toml: each table checked, and read as one or more conditions.

An [[alerts]] table watches a currency's official rate (`above`, `below`, `move_percent`), the
next days' publication (`published`), or a city's best bank rate (`bank`). Levels are money: read
as written (3.00 is Decimal("3.00")), never through a binary float. Notification URLs hold secrets:
an error never echoes one, and ticker shows and records only Apprise's masked form (`target`).

Stdlib only, but for `check_notify` and `target`, which load Apprise: the commands that deliver.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from ..config import Key, city_name
from ..errors import ConfigError
from ..model import code

# The source of a rule on a city's best bank rate: the best across every bank with points there. (Until
# there were several banks it was "belarusbank"; alert_events rows written then keep it.)
BANKS = "banks"


@dataclass(frozen=True)
class Alert:
    """One condition of one [[alerts]] table, and whom to tell when it fires.

    A table with `above`, `below` and `move_percent` gives three conditions with its `notify`.
    `rule` (the condition in words) is what identifies it in the `alert_events` table.
    """

    number: int  # the table's place in the file, from 1: [[alerts]] #number
    kind: str  # above, below, move or published
    source: str  # where the watched rate comes from: "nbrb", the official rates, or BANKS, a city's best of every bank
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


def _alert_level(value):
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
    raise ValueError('expected a non-empty list of Apprise URLs like ["ntfy://ticker-usd"]')


def _shown(value) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


# The keys of an [[alerts]] table, as data: README and its test read them like SCHEMA's.
ALERT_KEYS: dict[str, Key] = {
    "currency": Key(None, code, "the currency watched, at its official NBRB rate (or with `bank`, a bank's)"),
    "above": Key(None, _alert_level, "fires when the rate rises above this many BYN per 1 unit"),
    "below": Key(None, _alert_level, "fires when the rate falls below this many BYN per 1 unit"),
    "move_percent": Key(None, _percent, "fires when the rate moves at least this many percent from the day before"),
    "published": Key(None, _true, "true: fires when the next days' rates are published"),
    "notify": Key(None, _urls, "Apprise URLs to deliver to"),
    "bank": Key(None, _side, '"buy" or "sell": watch the best bank rate of that side in a city instead'),
    "city": Key(None, city_name, "with `bank`: the city, as the bank writes it [default: [banks] city]"),
}
LEVELS_OF = {"above": "above", "below": "below", "move_percent": "move"}  # key -> event kind


def parse(tables, name: str, config) -> tuple[Alert, ...]:
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
    """A rule on a city's best bank rate across the banks: "USD best sell in Минск below 2.90", crossing
    levels only.

    Bank rates are not tracked currencies: whatever the bank quotes is recorded.
    """
    if "move_percent" in levels:
        raise ConfigError(f"{where} move_percent: a bank rule takes above or below (move_percent watches the"
                          " official rate from one day to the next)")
    city = values.get("city", config.banks.city)
    return [Alert(number, LEVELS_OF[key], BANKS, values["currency"], values[key], values["notify"],
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
