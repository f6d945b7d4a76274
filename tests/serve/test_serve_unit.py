"""contrib/ticker-serve.service: systemd-analyze verify finds it clean, and it only reads."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "ticker-serve.service"


def test_systemd_analyze_verify_finds_the_unit_clean(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install Debian's systemd (.ci/run does)"
    # As installed: its ExecStart is the ticker of a virtual environment, here this one's.
    installed = tmp_path / UNIT.name
    installed.write_text(UNIT.read_text().replace("/opt/ticker/bin/ticker", str(Path(sys.executable).with_name("ticker"))))
    done = subprocess.run([analyze, "verify", str(installed)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_unit_serves_and_never_writes():
    settings = [line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line and not line.startswith("#")]
    values = {key: value for key, value in settings}
    assert values["ExecStart"].endswith(" serve") and values["ReadOnlyPaths"] == "/var/lib/ticker"
    assert values["ProtectSystem"] == "strict" and "StateDirectory" not in values
