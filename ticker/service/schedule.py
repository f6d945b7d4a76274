"""The daemon's timetable: the crontabs of `[schedule]` and of each source, as triggers in Minsk time.

Every trigger is in Europe/Minsk: NBRB's dates and publication hours are Minsk's, whatever the
machine's zone. APScheduler 3 walks every run time a trigger missed before it coalesces them, so
a wall clock that jumps years ahead would make it walk millions (agronholm/apscheduler#1066):
`Bounded` cuts the walk short, so a missed run still runs once, at once, and the next is planned
from now.
"""

from datetime import date, datetime, time, timedelta

from apscheduler.triggers.base import BaseTrigger

from .. import sources
from ..config import enabled_banks
from ..days import minsk
from ..errors import ConfigError

JOBS = ("poll", "catchup")
WALK = timedelta(days=2)  # a trigger asked about runs further behind than this plans from now


def crontab(config, job: str) -> str:
    """The crontab of a job: `[schedule] poll` (or NBRB's own when empty), `[schedule] catchup`."""
    if job == "poll":
        return config.schedule.poll or sources.get(sources.DEFAULT).schedule.poll
    return config.schedule.catchup


def bank_crontab(config, bank: str) -> str:
    """When a bank is polled: its section's `schedule`, or the source's own when that is empty."""
    return getattr(config, bank).schedule or sources.get(bank).schedule.poll


def _trigger(text: str, where: str):
    from apscheduler.triggers.cron import CronTrigger

    try:
        return Bounded(CronTrigger.from_crontab(text, timezone=minsk()))
    except ValueError as exc:
        raise ConfigError(f"{where}: {text!r}: {exc}") from None


def triggers(config) -> dict:
    """{"poll": trigger, "catchup": trigger}; ConfigError names the key of a crontab the scheduler refuses."""
    where = {"poll": "[schedule] poll", "catchup": "[schedule] catchup"}
    return {job: _trigger(crontab(config, job), f"{config.file or '(defaults)'}: {where[job]}") for job in JOBS}


def bank_triggers(config) -> dict:
    """{bank id: its poll's trigger} for every bank whose section is enabled, in sources.BANKS order;
    ConfigError names the section of a crontab the scheduler refuses."""
    return {bank: _trigger(bank_crontab(config, bank), f"{config.file or '(defaults)'}: [{bank}] schedule")
            for bank in enabled_banks(config)}


def next_poll(trigger, now: datetime, polled_on: date | None = None) -> datetime | None:
    """The next poll that will ask NBRB: once a poll stored the next day's rates, the remaining
    polls of that (Minsk) day ask nothing."""
    if polled_on is not None:
        now = max(now, datetime.combine(polled_on + timedelta(days=1), time(), minsk()))
    return trigger.get_next_fire_time(None, now)


class Bounded(BaseTrigger):
    """A trigger whose walk over missed run times ends at once: asked for the run after one more than
    WALK behind `now` (the clock jumped ahead, or the machine slept), it gives the next from now."""

    def __init__(self, trigger):
        self.trigger = trigger

    def get_next_fire_time(self, previous, now):
        if previous is not None and now - previous > WALK:
            previous = None
        return self.trigger.get_next_fire_time(previous, now)

    def __str__(self) -> str:
        return str(self.trigger)
