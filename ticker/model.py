"""The rate model and the money facts that sources, the store, the readers and the outputs share.

A rate is `unit` per `scale` units of `code`: BYN per 100 RUB, BYR per 1 USD before the 2016
redenomination. Everything here is exact: rates are `Decimal`s as published, and the factors that
relate them (scales, redenominations) are powers of ten, so dividing them out never rounds.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import NamedTuple

# The API never converts history: each row keeps the unit it was published in.
BYR_UNTIL = date(2016, 7, 1)  # BYR -> BYN at 10,000:1 on this day
BYB_UNTIL = date(2000, 1, 1)  # BYB -> BYR at 1,000:1 on this day
PER_BYN = {"BYN": 1, "BYR": 10_000, "BYB": 10_000_000}  # old roubles per BYN: the redenomination factors
BASE = "BYN"  # the base currency: every official rate is BYN (or BYR/BYB) per `scale` units
# The store keeps BYN per one unit as an exact integer of 10^-16 BYN (`rates.byn_per_unit_e16`), so
# SQL compares and subtracts exactly: 16 places hold a BYB rate of 2 decimals per 100,000 units,
# and a signed 64-bit integer holds up to 922 BYN per unit (KWD, the dearest, is about 11).
E16 = 10**16

DAILY, MONTHLY = 0, 1  # Cur_Periodicity: NBRB's daily list, and its list of rates set once a month


class Currency(NamedTuple):
    """One catalogue record: a Cur_ID and the period it is valid in."""

    cur_id: int
    parent_id: int
    code: str
    num_code: str
    name: str
    name_eng: str
    scale: int
    periodicity: int  # 0 daily, 1 monthly
    start: date
    end: date


class Rate(NamedTuple):
    """`rate` `unit` (BYN, BYR or BYB) per `scale` units of `code`, as published: in force on `date`
    (a daily rate), or set on `date` and in force from then to the end of that month (a monthly
    rate, `periodicity` MONTHLY; see `in_force_until`)."""

    code: str
    date: date
    scale: int
    rate: Decimal
    unit: str
    cur_id: int
    periodicity: int = DAILY

    @property
    def byn_per_unit(self) -> Decimal:
        """BYN per ONE unit of `code`: the scale and the redenomination factor divided out, exactly."""
        return per_unit(self.rate, self.scale, self.unit)

    @property
    def byn_per_unit_e16(self) -> int:
        """`byn_per_unit` in units of 10^-16 BYN: the exact integer the store compares."""
        return per_unit_e16(self.rate, self.scale, self.unit)


def per_unit(rate, scale: int, unit: str):
    """BYN per one unit of a currency quoted at `rate` `unit` per `scale`: exact for Decimals,
    as scales and redenomination factors are powers of ten."""
    return rate / scale / PER_BYN[unit]


_POWERS_OF_TEN = {10**n: n for n in range(24)}


def per_unit_e16(rate: Decimal, scale: int, unit: str) -> int:
    """BYN per one unit in units of 10^-16 BYN; ValueError when that integer is not exact or too
    large for SQLite's 64-bit integers (a rate no NBRB list has ever had)."""
    divisor = scale * PER_BYN[unit]
    places = _POWERS_OF_TEN.get(divisor)
    if places is not None:  # every NBRB scale and factor: moving the point is exact, and fast
        value = Decimal(rate).scaleb(16 - places)
    else:
        with localcontext() as exact:
            exact.prec = 60
            value = Decimal(rate) * E16 / divisor
    if value != value.to_integral_value() or not 0 <= value < 2**63:
        raise ValueError(f"{rate} {unit} per {scale} is not a whole number of 10^-16 BYN per unit")
    return int(value)


def in_force_until(periodicity: int, day: date) -> date:
    """The last day a rate published for `day` can be in force: that day for a daily rate; for a
    monthly rate, the last day of the month it was set in (NBRB sets one each month, so a rate
    never answers for a later month; a second one set in the same month replaces it from its day)."""
    if periodicity == DAILY:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def days_in_force(periodicity: int, set_days) -> set[date]:
    """Every day on which one of the rates published for `set_days` is in force (see `in_force_until`)."""
    if periodicity == DAILY:
        return set(set_days)
    covered = set()
    for day in set_days:
        last = in_force_until(periodicity, day)
        covered.update(day + timedelta(days=n) for n in range((last - day).days + 1))
    return covered


def set_from(periodicity: int, day: date) -> date:
    """The first day a rate in force on `day` can have been set on: `day` itself for a daily rate,
    the first of its month for a monthly one (the converse of `in_force_until`)."""
    return day if periodicity == DAILY else day.replace(day=1)


def unit_on(day: date) -> str:
    """The currency unit NBRB quoted in on that day: BYB before 2000, BYR before 2016-07-01, then BYN."""
    if day < BYB_UNTIL:
        return "BYB"
    if day < BYR_UNTIL:
        return "BYR"
    return "BYN"


def code(value) -> str:
    """A currency code as written by a person: three letters, any case -> ISO 4217 letters;
    ValueError for anything else."""
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    raise ValueError(f"expected a three-letter currency code, got {value!r}")


PRECISION = (0, 8)  # the decimals an amount or a rate may be rounded to: every command and the API


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Money rounding: half up (3.145 -> 3.15), as in accounting, not Python's half even.

    Exact at any size (the digits the result needs are the precision used) and never -0.00.
    """
    with localcontext() as wide:
        wide.prec = max(wide.prec, value.adjusted() + places + 2)
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


# -- commercial banks' buy and sell rates ---------------------------------------------------

BUY, SELL = "buy", "sell"  # the bank's side: it buys `code` from a client, or sells it to one
CASH, NON_CASH = "cash", "non-cash"  # BankRate.channel: at a cash desk, or by card or between accounts
# Point.id of a bank's rates that hold for the whole bank, not at one place (Alfa-Bank's feed lists
# no branches): such a point has no city, address or hours.
BANK_WIDE = "bank-wide"


class Point(NamedTuple):
    """A bank's branch or exchange point, as the bank lists it."""

    id: str  # the bank's own id for it (Belarusbank's filial_id)
    city: str  # the locality, as the bank writes it: "Минск"
    city_type: str  # its kind, as written: "г.", "г.п.", "агрогородок"; "" when not given
    address: str  # street type, street and house, as written: "пр. Партизанский 8-49"
    label: str  # the point's name: "Отделение 100/212"
    hours: str  # the opening hours, readable: "Пн-Пт 09:00-19:00, Сб 09:00-15:00"
    hours_text: str  # the opening hours exactly as published
    # Where it is, when the bank says (MTBank's x and y), as published, in degrees (WGS 84 assumed:
    # no feed names its datum); None when not given.
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def bank_wide(self) -> bool:
        """Whether this stands for the whole bank rather than a place (see BANK_WIDE)."""
        return self.id == BANK_WIDE


class BankRate(NamedTuple):
    """One buy or sell rate of one point, as published (a bank never publishes 0 for a rate it offers).

    A direct rate (`against` BYN) is BYN per `scale` units of `code`. A cross rate is per 1 unit,
    in the bank's direction: on the buy side the client gives 1 `code` and gets `rate` `against`,
    on the sell side the client gives 1 `against` and gets `rate` `code`; so both say what the
    client gets for one unit given (Belarusbank's convention), unless `per` says otherwise. `scale`
    is None until known; `checked` tells whether the rate was found within a factor of 10 of NBRB's
    official rate.

    The fields after `checked` are optional, so that a source that has nothing to say of them
    constructs a BankRate as before:
    - `channel`: CASH (at the counter) or NON_CASH (by card or from an account, MTBank's
      `cacheless` 1); None when the source does not say which.
    - `min_amount`, `max_amount`: the amounts of `code` a tiered rate applies to, both included, as
      published (Belgazprombank's `min-amount="0" max-amount="9999"`); None when the rate is not
      tiered, or for `max_amount` when the tier has no upper bound. `typical` tells the tier that
      "best rate" answers use.
    - `per`: `code` when a cross rate's sell side is quoted like its buy side and like a direct
      rate, `against` per `scale` units of `code` (what the client pays for each unit it gets:
      MTBank, Belgazprombank, Alfa-Bank and Dabrabyt); None for the convention above.
    """

    point: str  # Point.id
    code: str  # the currency the bank buys or sells: "USD"
    against: str  # what it pays or asks for it: "BYN", or the second currency of a cross rate
    side: str  # BUY or SELL
    rate: Decimal  # as published, trailing zeros kept
    # When the bank's rate set took effect, as published, in local time, in ISO order: "2026-10-07
    # 17:20:00", "2026-10-08 14:15" (to the minute), "2026-10-08" (a feed that gives only the day); None.
    effective_at: str | None
    scale: int | None = None
    checked: bool = False
    channel: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    per: str | None = None

    @property
    def cross(self) -> bool:
        return self.against != BASE

    @property
    def quoted_per(self) -> str:
        """The currency `rate` is per `scale` (cross rates: 1) units of: `code`, but `against` on the
        sell side of a cross rate in Belarusbank's convention."""
        return self.per or (self.against if self.cross and self.side == SELL else self.code)

    @property
    def typical(self) -> bool:
        """Whether a person exchanging a typical amount gets this rate: an untiered rate, or the tier
        that starts at 0, of the smallest amounts. The one feed with tiers on record, Belgazprombank's,
        has its first tier up to 9,999 units and the next from 10,000: a person changing a few
        hundred dollars at a counter gets the first; the others are for sums few exchange. Sources
        refuse tiers that do not start at 0 or overlap, so a tiered rate has one typical tier."""
        return not self.min_amount  # None or 0
