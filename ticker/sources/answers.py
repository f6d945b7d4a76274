"""What every bank source does with its answer once its points are read: the rates as exact
decimals, local times in ISO order, the direction check, and one Answer with one line per refusal."""

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from ..errors import BadResponse
from ..model import BASE, BUY, BankRate, Point
from . import Answer

NUMBER = re.compile(r"^\d+(\.\d+)?$")


def rate(key: str, value) -> Decimal | None:
    """A published rate as an exact Decimal, trailing zeros kept, or None for zero ("not offered");
    ValueError naming `key` when it is not a rate (a decimal comma, a sign, text, a bool)."""
    if isinstance(value, str) and NUMBER.match(value):
        return Decimal(value) if value.strip("0.") else None
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool) and value >= 0:
        return Decimal(value) if value else None
    raise ValueError(f"{key} is {value!r}, not a rate")


def local_time(key: str, value, pattern: str) -> str:
    """A feed's local date or time ("08.10.2026", "08.10.2026 14:15" for "%d.%m.%Y %H:%M") in ISO
    order and to the precision published ("2026-10-08", "2026-10-08 14:15"); ValueError naming `key`."""
    try:
        parsed = datetime.strptime(value.strip(), pattern)
    except (AttributeError, ValueError):
        shown = pattern.replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY").replace("%H", "HH").replace("%M", "MM")
        raise ValueError(f"{key} is {value!r}, expected {shown}") from None
    return parsed.strftime("%Y-%m-%d %H:%M" if "%H" in pattern else "%Y-%m-%d")


def answer(short: str, url: str, listed: int, points: list[Point], rates: list[BankRate], refused: list[str],
           wrong: dict | None = None) -> Answer:
    """A bank source's Answer once its points are read: `refused` (one reason per point or entry left
    out) and `wrong` (see `lines`) become the answer's lines, and the rates pass `directions`.

    Raises BadResponse when nothing is left: every point refused, no rate at all, every rate refused.
    """
    if not points:
        raise BadResponse(short, f"{url}: every point refused, e.g. {refused[0]}")
    if not rates:
        if refused:
            raise BadResponse(short, f"{url}: no rate left, e.g. refused {refused[0]}")
        raise BadResponse(short, f"{url}: {len(points)} point{'s' * (len(points) > 1)} but no rates (every value is 0)")
    rates, reversed_ = directions(short, rates)
    later = lines(short, wrong or {}) + reversed_
    if not rates:
        raise BadResponse(short, f"{url}: every rate refused, e.g. {later[0]}")
    return Answer(url, listed, points, rates, [f"{short}: refused {reason}" for reason in refused] + later)


def directions(short: str, rates: list[BankRate]) -> tuple[list[BankRate], list[str]]:
    """The rates whose bank buys cheaper than it sells (or quotes one side only), and one line per
    currency pair, channel and tier that it would buy dearer than it sells somewhere, or quotes
    twice at one point: both sides refused at those points, never stored.

    Every bank source calls this on its answer: a bank that buys dearer than it sells would lose on
    every exchange, so its labels are the other way round (or the value is damaged), and which way
    cannot be told from the answer. Buying at exactly its selling rate is allowed. Compared exactly,
    per one unit; Belarusbank's cross sell side (`code` per 1 `against`) is turned round by
    multiplying: the bank buys dearer when buy x sell > 1.
    """
    pairs: dict[tuple, list] = {}  # (point, code, against, channel, tier) -> [buy, sell, more of one side]
    for q in rates:
        key = (q.point, q.code, q.against, q.channel, q.min_amount, q.max_amount)
        slot = pairs.get(key)
        if slot is None:
            slot = pairs[key] = [None, None]
        i = 0 if q.side == BUY else 1
        if slot[i] is None:
            slot[i] = q
        else:
            slot.append(q)
    kept, refused = [], defaultdict(list)
    for (point, *what), slot in pairs.items():
        buy, sell, *more = slot
        problem = None
        if more:
            both = [q for q in (buy, sell, *more) if q is not None]
            problem = f"quoted {len(both)} times at one point: {', '.join(f'{q.side} {q.rate}' for q in both)}"
        elif buy is not None and sell is not None:
            problem = _dearer(buy, sell)
        if problem:
            code, against, channel, low, high = what
            refused[code, against, None, channel, low, high].append((point, problem))
        else:
            kept += [q for q in (buy, sell) if q is not None]
    return kept, lines(short, refused)


def lines(short: str, refused: dict[tuple, list[tuple[str, str]]]) -> list[str]:
    """One line per (code, against, side or None for both, channel, min amount, max amount) refused at
    some points: how many, the first three, and the first one's problem (the others are the same
    mistake with other values)."""
    said = []
    for (code, against, side, channel, low, high), bad in refused.items():
        pair = code if against == BASE else f"{code}/{against}"
        kind = f" {channel}" if channel else ""
        sides = f" {side}" if side else ""
        tier = "" if low is None else f" (amounts {low} to {'any' if high is None else high})"
        points = list(dict.fromkeys(point for point, _ in bad))
        where = ", ".join(points[:3]) + (", ..." if len(points) > 3 else "")
        said.append(f"{short}: refused{kind} {pair}{sides}{tier} at {len(points)} point{'s' * (len(points) > 1)}"
                    f" ({where}): {bad[0][1]}")
    return said


def _dearer(buy: BankRate, sell: BankRate) -> str | None:
    """Why the bank would buy dearer than it sells, in words, or None."""
    if sell.quoted_per == sell.code:  # both sides `against` per `scale` units of `code`
        if buy.rate * (sell.scale or 1) <= sell.rate * (buy.scale or 1):
            return None
        return (f"it would buy at {buy.rate} and sell at {sell.rate} {buy.against} per {buy.scale or 1} {buy.code},"
                " dearer than it sells: the labels reversed?")
    if buy.rate * sell.rate <= 1:  # the sell side is `code` per 1 `against`: 1/sell is its price
        return None
    return (f"it would buy 1 {buy.code} for {buy.rate} {buy.against} and sell 1 {buy.against} for {sell.rate}"
            f" {buy.code}, dearer than it sells: the labels reversed?")
