"""The daemon's timetable: `[schedule]` crontabs as triggers in the configured zone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..days import minsk

JOBS = ("poll", "catchup")


def triggers(config) -> dict:
    """{"poll": CronTrigger, "catchup": CronTrigger}, their hours read in `schedule.timezone`."""
    from apscheduler.triggers.cron import CronTrigger

    zone = ZoneInfo(config.schedule.timezone)
    return {job: CronTrigger.from_crontab(getattr(config.schedule, job), timezone=zone) for job in JOBS}


def next_poll(trigger, now: datetime, polled_on: date | None = None) -> datetime | None:
    """The next poll that will ask NBRB: once a poll stored the next day's rates, the remaining
    polls of that (Minsk) day ask nothing."""
    if polled_on is not None:
        now = max(now, datetime.combine(polled_on + timedelta(days=1), time(), minsk()))
    return trigger.get_next_fire_time(None, now)


def bank_crontab(config) -> str:
    """When the bank is polled: `[belarusbank] schedule`, or the source's own when that is empty."""
    from .. import sources

    return config.belarusbank.schedule or sources.get("belarusbank").schedule


def bank_trigger(config):
    """The bank poll's CronTrigger, its hours in `schedule.timezone`; None while `[belarusbank] enabled` is false."""
    from apscheduler.triggers.cron import CronTrigger

    if not config.belarusbank.enabled:
        return None
    return CronTrigger.from_crontab(bank_crontab(config), timezone=ZoneInfo(config.schedule.timezone))
