"""Files and folders ticker writes follow the umask of the process, as any program's do, and a file
it replaces keeps its mode, atomic writes included: real `ticker` processes under umask 077 and 027."""

import os
import stat
import subprocess
from pathlib import Path

import pytest
from support import write_config
from support.daemon import PINNED

UMASKS = [0o077, 0o027]


def ticker(config: Path, *args, umask: int) -> str:
    done = subprocess.run([*PINNED, "--config", str(config), *args], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, umask=umask)
    assert done.returncode == 0, done.stderr
    return done.stdout


def modes(folder: Path) -> dict[str, int]:
    """Every file and folder under `folder` (symlinks left out: they have no mode of their own) -> its mode."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            if not path.is_symlink():
                found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def expected(umask: int, folder: bool = False) -> int:
    return (0o777 if folder else 0o666) & ~umask


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_charts_their_sets_and_the_page_follow_the_umask(tmp_path, recorded_db, umask):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'},
                          charts={"currencies": '["USD"]', "windows": "[7]"})
    ticker(config, "chart", umask=umask)
    written = modes(tmp_path / "charts")
    # The day's set, the one latest/ points at, the page, the lock: each as the umask has it.
    assert {"index.html", ".lock", ".sets", "2026-03-17", "2026-03-17/usd-7.png", "2026-03-17/ticker.json"} <= set(written)
    assert [p for p in written if p.startswith(".sets/") and p.count("/") == 1]  # the set latest/ shows
    for path, mode in written.items():
        assert mode == expected(umask, (tmp_path / "charts" / path).is_dir()), (path, oct(mode))
    assert stat.S_IMODE((tmp_path / "charts").stat().st_mode) == expected(umask, folder=True)


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_line_write_makes_latest_and_its_files_with_the_umasks_modes(tmp_path, recorded_db, umask):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'})
    ticker(config, "line", "--write", umask=umask)
    assert modes(tmp_path / "charts") == {"latest": expected(umask, folder=True),
                                          "latest/ticker.json": expected(umask), "latest/ticker.txt": expected(umask)}


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_an_export_and_a_new_database_follow_the_umask(tmp_path, recorded_db, nbrb, umask):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]', "since": "2026-03-10"})
    ticker(config, "backfill", umask=umask)
    ticker(config, "export", "--output", str(tmp_path / "usd.csv"), umask=umask)
    assert (tmp_path / "usd.csv").read_text().count("\n") == 1 + 8  # the header and 2026-03-10..17
    written = modes(tmp_path)
    written.pop("config.toml")  # the test's own
    # The export's read-only connection leaves SQLite's -wal and -shm behind; SQLite gives them the
    # database's mode.
    assert written == {"rates.sqlite": expected(umask), "rates.sqlite-wal": expected(umask),
                       "rates.sqlite-shm": expected(umask), "usd.csv": expected(umask)}, written


def test_a_replaced_export_keeps_its_mode_whatever_the_umask(tmp_path, recorded_db):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'})
    private, shared = tmp_path / "private.csv", tmp_path / "shared.csv"
    for path, mode in ((private, 0o600), (shared, 0o644)):
        path.write_text("old\n")
        path.chmod(mode)
    # A private export stays private under a lax umask, a shared one shared under a strict one.
    ticker(config, "export", "--currency", "USD", "--output", str(private), umask=0o022)
    ticker(config, "export", "--currency", "USD", "--output", str(shared), umask=0o077)
    assert (stat.S_IMODE(private.stat().st_mode), stat.S_IMODE(shared.stat().st_mode)) == (0o600, 0o644)
    assert private.read_text() == shared.read_text() != "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "private.csv", "shared.csv"]  # no temporary left


def test_a_page_and_a_days_set_rendered_again_keep_their_modes(tmp_path, recorded_db):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'},
                          charts={"currencies": '["USD"]', "windows": "[7]"})
    ticker(config, "chart", umask=0o077)
    charts = tmp_path / "charts"
    (charts / "index.html").chmod(0o644)  # made public by hand, for the web server
    (charts / "2026-03-17").chmod(0o755)
    ticker(config, "chart", umask=0o077)  # replaced, atomically, by a strict process
    assert stat.S_IMODE((charts / "index.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((charts / "2026-03-17").stat().st_mode) == 0o755
    assert stat.S_IMODE((charts / "2026-03-17" / "usd-7.png").stat().st_mode) == 0o600  # new files: the umask's
