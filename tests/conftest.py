"""Shared fixtures: a real local NBRB fake, the recorded database, an empty store, and no network off this machine."""

import ipaddress
import socket
from pathlib import Path

import pytest
from support import write_config
from support.nbrb_data import recorded_server

from ticker.store.writer import Store

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", ""}


def _loopback(host) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network_off_this_machine():
    """Refuse any connection or name lookup that is not loopback: tests never reach NBRB."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"test blocked a connection to {address[0]}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host if isinstance(host, str) else (host or b"").decode()):
            raise socket.gaierror(socket.EAI_NONAME, f"test blocked a lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
    yield
    socket.socket.connect, socket.getaddrinfo = real_connect, real_getaddrinfo


@pytest.fixture
def nbrb():
    """The NBRB fake serving the recorded data in ../shared/nbrb, as on 2026-03-17."""
    with recorded_server(today="2026-03-17") as server:
        yield server


@pytest.fixture(scope="session")
def recorded_db(tmp_path_factory) -> Path:
    """A database filled by the real fetch code from the recorded data, shared and only read:
    every currency on 2015-01-01 (in BYR), 2024-01-10 and 2026-03-01..17, and USD all of January 2024."""
    from datetime import date

    from ticker import config as configuration
    from ticker.sync.official import Sync

    folder = tmp_path_factory.mktemp("recorded")
    with recorded_server(today="2026-03-17") as server:
        config = configuration.load(write_config(folder, server.url, track={"currencies": '["*"]'}))
        sync = Sync(config)
        sync.fetch([date(2015, 1, 1), date(2024, 1, 10)])
        sync.backfill(date(2026, 3, 1), date(2026, 3, 17))
        sync.backfill(date(2024, 1, 1), date(2024, 1, 31), ["USD"])
        sync.store.close()
    return config.database.path


@pytest.fixture(scope="session")
def monthly_db(tmp_path_factory) -> Path:
    """A database filled by the real backfill code with every currency ("*"): the monthly list since
    2022-06-01 (made-up rates: BRL until 2022-07, KRW and THB to 2026-03) and the daily one for
    2026-03-01..17 (recorded). Shared and only read."""
    from datetime import date

    from support import minsk

    from ticker import config as configuration
    from ticker.sync.official import Sync

    folder = tmp_path_factory.mktemp("monthly")
    with recorded_server(today="2026-03-17") as server, minsk("2026-03-17 18:51"):
        config = configuration.load(write_config(folder, server.url, track={"currencies": '["*"]'}))
        sync = Sync(config)
        Sync(sync.config, sync.store, "nbrb-monthly").backfill(date(2022, 6, 1))
        sync.backfill(date(2026, 3, 1), date(2026, 3, 17))
        sync.store.close()
    return config.database.path


@pytest.fixture
def bank():
    """The Belarusbank fake serving the recorded 2019 answer (support.banks)."""
    from support.banks import bank_server

    with bank_server() as server:
        yield server


@pytest.fixture
def store(tmp_path):
    """An empty store, migrated."""
    store = Store(tmp_path / "rates.sqlite")
    yield store
    store.close()


@pytest.fixture(scope="session")
def bank_db(tmp_path_factory) -> Path:
    """A database filled by the real sync code, shared and only read: every official rate of
    2026-03-01..17, and Belarusbank's answers of `support.banks.history()` polled at their times
    (the recorded 2019 answer and its variants; none on 03-11 nor 03-13..16)."""
    from datetime import date

    from support.banks import bank_section, bank_server, poll_history

    from ticker import config as configuration
    from ticker.sync.official import Sync

    folder = tmp_path_factory.mktemp("banks")
    with recorded_server(today="2026-03-17") as server, bank_server() as bank:
        config = configuration.load(write_config(folder, server.url, track={"currencies": '["*"]'},
                                                 belarusbank=bank_section(bank)))
        sync = Sync(config)
        sync.backfill(date(2026, 3, 1), date(2026, 3, 17))
        sync.store.close()
        poll_history(config, bank)
    return config.database.path


@pytest.fixture(scope="session")
def five_banks_db(tmp_path_factory) -> Path:
    """A database filled by the real sync code, shared and only read: NBRB's official rates of
    2026-03-17, and one answer of each of the five banks' fakes polled at 12:00 Minsk time that day
    (Belarusbank's recorded answer, the others' built from ../shared/banks/FACTS.md)."""
    from contextlib import ExitStack
    from datetime import date

    from support import minsk
    from support.bank_feeds import feed_server, section
    from support.banks import bank_section, bank_server

    from ticker import config as configuration
    from ticker import sources
    from ticker.sync import banks as bank_sync
    from ticker.sync.official import Sync

    folder = tmp_path_factory.mktemp("five-banks")
    with recorded_server(today="2026-03-17") as server, ExitStack() as fakes:
        feeds = {bank: fakes.enter_context(bank_server() if bank == "belarusbank" else feed_server(bank))
                 for bank in sources.BANKS}
        sections = {bank: (bank_section if bank == "belarusbank" else section)(fake) for bank, fake in feeds.items()}
        config = configuration.load(write_config(folder, server.url, track={"currencies": '["*"]'}, **sections))
        sync = Sync(config)
        sync.fetch([date(2026, 3, 17)])
        sync.store.close()
        with minsk("2026-03-17 12:00"):
            for bank in sources.BANKS:
                bank_sync.poll(config, bank)
    return config.database.path
