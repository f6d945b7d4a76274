"""Fixtures of the daemon's tests."""

import pytest
from support.daemon import Running


@pytest.fixture
def launch():
    started = []

    def start(config, *args, **kwargs) -> Running:
        started.append(Running(config, *args, **kwargs))
        return started[-1]

    yield start
    for run in started:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(timeout=30)
