"""A commercial bank -> the store: one poll of its rates, checked against NBRB's official rates.

No bank states its scales, so every rate is checked before it is stored: against NBRB's official
rate in force today (or, before the daemon has stored it, the last one of the week before), a rate
off by a factor of 10 or more is refused. A currency with no official rate to check against is
stored with the bank's own scale and marked unchecked; one whose scale nobody knows is refused.
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
    """Each rate with its scale and `checked` set, or refused: one line per currency and side, with
    the first point's problem (the others are the same mistake with other values)."""
    kept, refused = [], defaultdict(list)
    rules: dict[tuple[str, str, str], Check] = {}  # (code, against, side) -> how to check its rates
    for q in rates:
        rule = rules.get((q.code, q.against, q.side))
        if rule is None:
            rule = rules[q.code, q.against, q.side] = _rule(q, official)
        scale, expected, describe = rule
        if scale is None:
            refused[q.code, q.against, q.side].append((q.point, describe(q.rate)))
            continue
        if expected is not None:
            problem = _off(q.rate, expected)
            if problem:
                refused[q.code, q.against, q.side].append((q.point, describe(q.rate, problem)))
                continue
        try:
            per_unit_e16(q.rate, scale, BASE)  # what the store compares: exact, or not stored
        except ValueError:
            refused[q.code, q.against, q.side].append(
                (q.point, f"{q.rate} per {scale} is not a whole number of 10^-16 per unit; cannot be stored exactly"))
            continue
        kept.append(q._replace(scale=scale, checked=expected is not None))
    lines = []
    for (code, against, side), bad in refused.items():
        pair = code if against == BASE else f"{code}/{against}"
        where = ", ".join(point for point, _ in bad[:3]) + (", ..." if len(bad) > 3 else "")
        lines.append(f"{source.short}: refused {pair} {side} at {len(bad)} point{'s' * (len(bad) > 1)}"
                     f" ({where}): {bad[0][1]}")
    return kept, lines


class Check(NamedTuple):
    """How the rates of one currency, against and side are checked."""

    scale: int | None  # units per rate; None when nobody knows it (the rate is refused)
    expected: Decimal | None  # the value NBRB's official rates give, or None when there is none
    describe: Callable | None  # the refusal's words: describe(rate, how far off)


def _rule(q: BankRate, official: dict[str, Rate]) -> Check:
    """How to check the rates of `q`'s currency, against and side."""
    if not q.cross:
        nbrb = official.get(q.code)
        if nbrb is None:
            problem = f"no scale known for {q.code}: NBRB has no official rate for it in the database"
            return Check(q.scale, None, lambda rate: problem)
        # The bank quotes per NBRB's scale (FACTS §1.4); should NBRB change one, the check tells.
        return Check(nbrb.scale, nbrb.byn_per_unit * nbrb.scale, lambda rate, off=None: (
            f"{rate} BYN per {nbrb.scale} {q.code} is {off} NBRB's {nbrb.rate} BYN per {nbrb.scale} {q.code}"
            f" on {nbrb.date}; wrong scale?"))
    base, other = official.get(q.code), official.get(q.against)
    if base is None or other is None:
        return Check(1, None, None)
    mid = base.byn_per_unit / other.byn_per_unit  # `against` per 1 `code` at the official rates
    # The client gets `against` per 1 `code` on the buy side, `code` per 1 `against` on the sell side.
    expected = mid if q.side == "buy" else 1 / mid
    unit = f"{q.against} per 1 {q.code}" if q.side == "buy" else f"{q.code} per 1 {q.against}"
    return Check(1, expected, lambda rate, off=None: (
        f"{rate} {unit} is {off} NBRB's cross rate {expected:.6g} on {base.date}; reversed?"))


def _off(rate: Decimal, expected: Decimal) -> str | None:
    """How far a rate is off the expected value when that is a factor of FACTOR or more, in words."""
    ratio = rate / expected
    if ratio >= FACTOR:
        return f"{ratio:.3g} times"
    if ratio <= Decimal(1) / FACTOR:
        return f"1/{1 / ratio:.3g} of"
    return None
