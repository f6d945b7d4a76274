"""A commercial bank -> the store: one poll of its rates, checked against NBRB's official rates.

Most feeds state no units, and none can be taken on its word, so every rate is checked before it is
stored: against NBRB's official rate in force today (or, before the daemon has stored it, the last
one of the week before), per the units the feed states or, when it states none, per NBRB's scale,
a rate off by a factor of 10 or more is refused; a cross rate is checked against NBRB's cross rate
in the way it is quoted. A currency with no official rate to check against is stored with the
bank's own scale and marked unchecked; one whose scale nobody knows is refused.
"""

from collections import defaultdict
from decimal import Decimal
from typing import Callable, NamedTuple

from .. import days, sources
from ..model import BASE, BankRate, Rate, per_unit_e16
from ..store import banks
from ..store.writer import Store

FACTOR = 10  # a rate this many times off the official rate (or more) has the wrong scale
LOOKBACK = 7  # days: an older official rate still tells scales apart; the rouble never moved 10x in a week


def poll(config, source_id: str = "belarusbank", store: Store | None = None) -> banks.Poll:
    """Ask the bank once and store its answer in one transaction; returns what was stored and refused.

    Raises SourceUnavailable or BadResponse (recorded in `bank_polls`, nothing stored) when the
    answer cannot be had or used; refused points and rates are in the result, one line each.
    """
    source = sources.get(source_id).from_config(config)
    own = store is None
    store = store or Store(config.database.path)
    try:
        with banks.polling(store.db, source.id) as attempt:
            answer = source.rates()
            codes = {code for q in answer.rates for code in (q.code, q.against)} - {BASE}
            official = banks.official(store.db, sorted(codes), days.today(), LOOKBACK)
            rates, refused = check(source, answer.rates, official)
            attempt.refused = answer.refused + refused
            banks.write(store.db, attempt, answer.points, rates)
        return attempt
    finally:
        if own:
            store.close()


def check(source, rates: list[BankRate], official: dict[str, Rate]) -> tuple[list[BankRate], list[str]]:
    """Each rate with its scale and `checked` set, or refused: one line per currency, side and
    channel, with the first point's problem (the others are the same mistake with other values)."""
    from ..sources.answers import lines

    kept, refused = [], defaultdict(list)
    rules: dict[tuple, Check] = {}  # (code, against, side, stated scale, per) -> how to check its rates
    stated = not source.scales  # the feed gives each rate's units (Belgazprombank's Units, Alfa-Bank's quantity)
    for q in rates:
        which = (q.code, q.against, q.side, q.scale if stated else None, q.quoted_per)
        rule = rules.get(which)
        if rule is None:
            rule = rules[which] = _rule(q, official, stated)
        scale, expected, describe = rule
        where = (q.code, q.against, q.side, q.channel, q.min_amount, q.max_amount)
        if scale is None:
            refused[where].append((q.point, describe(q.rate)))
            continue
        if expected is not None:
            problem = _off(q.rate, expected)
            if problem:
                refused[where].append((q.point, describe(q.rate, problem)))
                continue
        try:
            per_unit_e16(q.rate, scale, BASE)  # what the store compares: exact, or not stored
        except ValueError:
            refused[where].append((q.point, f"{q.rate} per {scale} is not a whole number of 10^-16 per unit;"
                                            " cannot be stored exactly"))
            continue
        kept.append(q._replace(scale=scale, checked=expected is not None))
    return kept, lines(source.short, refused)


class Check(NamedTuple):
    """How the rates of one currency, against and side are checked."""

    scale: int | None  # units per rate; None when nobody knows it (the rate is refused)
    expected: Decimal | None  # the value NBRB's official rates give, or None when there is none
    describe: Callable | None  # the refusal's words: describe(rate, how far off)


def _rule(q: BankRate, official: dict[str, Rate], stated: bool) -> Check:
    """How to check the rates of `q`'s currency, against, side and convention: a direct rate against
    NBRB's in force, per the units the feed states (or, when it states none, per NBRB's scale, which
    banks follow: FACTS §1.4); a cross rate against NBRB's cross rate, in the way it is quoted."""
    if not q.cross:
        nbrb = official.get(q.code)
        if nbrb is None:
            problem = f"no scale known for {q.code}: NBRB has no official rate for it in the database"
            return Check(q.scale, None, lambda rate: problem)
        scale = q.scale if stated else nbrb.scale
        return Check(scale, nbrb.byn_per_unit * scale, lambda rate, off=None: (
            f"{rate} BYN per {scale} {q.code} is {off} NBRB's {nbrb.rate} BYN per {nbrb.scale} {q.code}"
            f" on {nbrb.date}; wrong scale?"))
    base, other = official.get(q.code), official.get(q.against)
    if base is None or other is None:
        return Check(q.scale or 1, None, None)
    mid = base.byn_per_unit / other.byn_per_unit  # `against` per 1 `code` at the official rates
    # What the rate counts: `against` per 1 `code` (a buy side, or a sell side quoted like it), or
    # `code` per 1 `against` (Belarusbank's sell side: what the client gets for 1 unit given).
    expected = mid if q.quoted_per == q.code else 1 / mid
    unit = f"{q.against} per 1 {q.code}" if q.quoted_per == q.code else f"{q.code} per 1 {q.against}"
    return Check(q.scale or 1, expected * (q.scale or 1), lambda rate, off=None: (
        f"{rate} {unit} is {off} NBRB's cross rate {expected:.6g} on {base.date}; reversed?"))


def _off(rate: Decimal, expected: Decimal) -> str | None:
    """How far a rate is off the expected value when that is a factor of FACTOR or more, in words."""
    ratio = rate / expected
    if ratio >= FACTOR:
        return f"{ratio:.3g} times"
    if ratio <= Decimal(1) / FACTOR:
        return f"1/{1 / ratio:.3g} of"
    return None
