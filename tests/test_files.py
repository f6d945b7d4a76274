"""ticker/files.py in real processes: modes that follow the umask, a replaced file that keeps its
mode, and the one flock between processes."""

import json
import os
import stat
import subprocess
import sys

import pytest

from ticker import files

WRITE = """
import json, os, sys
from pathlib import Path
from ticker import files

folder = Path(sys.argv[1])
files.write_text(folder / "index.html", "<p>page</p>")
files.write_bytes(folder / "usd-30.png", b"\\x89PNG")
with files.replacing(folder / "rates.csv", "w", encoding="utf-8", newline="") as out:
    out.write("date,code\\r\\n")
    out.write("2024-01-10,USD\\r\\n")
said = {"umask": files.umask(), "new_folder": files.mode_for(folder / "none", folder=True),
        "new_file": files.mode_for(folder / "none")}
said["still"] = os.umask(0)  # what reading it left it at
print(json.dumps(said))
"""


def child(script: str, *args, umask: int, **kwargs) -> subprocess.CompletedProcess:
    """A Python process running `script` under `umask`, as a daemon or a command started from a shell would."""
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], umask=umask, capture_output=True,
                          text=True, timeout=60, check=True, **kwargs)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o077, 0o027, 0o022])
def test_new_files_follow_the_umask_of_the_process_writing_them(tmp_path, umask):
    said = json.loads(child(WRITE, tmp_path, umask=umask).stdout)
    assert sorted(os.listdir(tmp_path)) == ["index.html", "rates.csv", "usd-30.png"]  # no temporary left
    for name in ("index.html", "rates.csv", "usd-30.png"):
        assert mode(tmp_path / name) == 0o666 & ~umask, name
    assert (tmp_path / "rates.csv").read_bytes() == b"date,code\r\n2024-01-10,USD\r\n"
    assert (tmp_path / "index.html").read_text("utf-8") == "<p>page</p>"
    # The umask read, not changed by the reading; the modes a new file and a new folder would get.
    assert said == {"umask": umask, "still": umask, "new_folder": 0o777 & ~umask, "new_file": 0o666 & ~umask}
    assert {0o077: 0o600, 0o027: 0o640, 0o022: 0o644}[umask] == mode(tmp_path / "index.html")


REPLACE = """
import sys
from ticker import files
files.write_text(sys.argv[1], "new\\n")
"""


@pytest.mark.parametrize("kept, umask", [(0o600, 0o022), (0o644, 0o077), (0o640, 0o002)])
def test_a_replaced_file_keeps_its_mode_whatever_the_umask(tmp_path, kept, umask):
    # Each umask would give a new file another mode than the one kept.
    assert 0o666 & ~umask != kept
    target = tmp_path / "ticker.json"
    target.write_text("old\n")
    target.chmod(kept)
    inode = target.stat().st_ino
    child(REPLACE, target, umask=umask)
    assert target.read_text() == "new\n"
    assert target.stat().st_ino != inode  # replaced, not rewritten in place
    assert mode(target) == kept
    assert os.listdir(tmp_path) == ["ticker.json"]


HOLD = """
import sys
from ticker import files
fd = files.lock(sys.argv[1])
print("held", fd is not None, flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def holder(path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "held True\n"  # EOF ("") if the child died first: no hang
    return proc


def test_lock_without_waiting_is_none_while_another_process_holds_it(tmp_path):
    path = tmp_path / "ticker.lock"
    proc = holder(path)
    try:
        open_fds = len(os.listdir("/proc/self/fd"))
        assert files.lock(path, wait=False) is None
        assert files.lock(path, wait=False) is None
        assert len(os.listdir("/proc/self/fd")) == open_fds  # a refused lock keeps no descriptor open
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    fd = files.lock(path, wait=False)
    assert isinstance(fd, int)
    os.close(fd)
    assert path.exists()  # never deleted


def test_a_killed_holder_releases_the_lock(tmp_path):
    path = tmp_path / "ticker.lock"
    proc = holder(path)
    try:
        assert files.lock(path, wait=False) is None
        proc.kill()
        assert proc.wait(timeout=30) == -9
    finally:
        proc.stdin.close()
    fd = files.lock(path, wait=False)
    assert fd is not None
    os.close(fd)


TRY = """
import sys
from ticker import files
print(files.lock(sys.argv[1], wait=False))
"""


def test_locked_holds_the_lock_for_the_block_against_other_processes(tmp_path):
    path = tmp_path / "ticker.lock"
    with files.locked(path):
        assert child(TRY, path, umask=0o022).stdout == "None\n"
    assert child(TRY, path, umask=0o022).stdout.strip().isdigit()
