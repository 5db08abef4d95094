"""Run ``omads-sync`` (python -m gateway.client.cli) as a subprocess, bounded in time."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.interop.vcards import normalize_vcard

ROOT = Path(__file__).resolve().parents[2]


def omads_sync(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.client.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def check(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"rc={done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    return done


def folder_items(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def contacts(items: dict[str, bytes]) -> Counter:
    return Counter(normalize_vcard(v) for v in items.values())


def summary_row(stdout: str, datastore: str = "./contacts") -> dict[str, str]:
    lines = stdout.splitlines()
    head = lines[0].split("  ")
    head = [h.strip() for h in lines[0].split("  ") if h.strip()]
    for line in lines[2:]:
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        if cells and cells[0] == datastore:
            return dict(zip(head, cells))
    raise AssertionError(f"no summary row for {datastore}:\n{stdout}")
