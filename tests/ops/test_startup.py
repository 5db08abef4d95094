"""Startup failures under twistd: one clear line, exit status 1, no traceback and not
twistd's whole usage text (a port in use: tests/test_service.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TWISTD = ROOT / ".venv" / "bin" / "twistd"


def twistd(tmp_path: Path, *argv: str) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([str(TWISTD), "-n", "--pidfile=", "omads-gateway", *argv],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50)
    return done.returncode, done.stdout + done.stderr


def one_line(output: str) -> str:
    assert "Traceback" not in output and "Usage:" not in output and "--help" not in output
    lines = [line for line in output.splitlines() if line.startswith("omads-gateway: ")]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.timeout(60)
def test_bad_config_value_is_one_line_without_the_usage_text(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('[http]\nthreads = 0\n')
    code, out = twistd(tmp_path, "--config", str(conf))
    assert code == 1
    assert "[http] threads must be an integer between 1 and 256 (got 0)" in one_line(out)


@pytest.mark.timeout(60)
def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, out = twistd(tmp_path, "--db", str(tmp_path / "file" / "omads.sqlite"),
                       "--http", "tcp:0:interface=127.0.0.1")
    assert code == 1
    assert "cannot open the store" in one_line(out)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    code, out = twistd(tmp_path, "--db", str(garbage), "--http", "tcp:0:interface=127.0.0.1")
    assert code == 1 and "garbage.sqlite" in one_line(out)


@pytest.mark.timeout(60)
def test_missing_tls_files_are_one_line(tmp_path: Path) -> None:
    code, out = twistd(tmp_path, "--db", str(tmp_path / "db.sqlite"), "--http",
                       f"ssl:0:interface=127.0.0.1:privateKey={tmp_path}/nokey.pem:"
                       f"certKey={tmp_path}/nocert.pem")
    assert code == 1
    line = one_line(out)
    assert "[http] listen" in line and "nokey.pem" in line
