"""Start ``omads-sync listen`` as a subprocess and wait for its listeners (bounded)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.client.runcli import ROOT


class ListenProc:
    def __init__(self, workdir: Path, *args: str):
        self.err_path = workdir / "listen.err"
        self.out_path = workdir / "listen.out"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.client.cli", "listen", "--once", *args], cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=open(self.out_path, "wb"),
            stderr=open(self.err_path, "wb"), start_new_session=True)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text("utf-8", "replace")

    @property
    def stdout(self) -> str:
        return self.out_path.read_text("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"listener never said {text!r}:\n{self.stderr}")
            time.sleep(0.05)

    def finish(self, timeout: float = 90) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"listener did not finish:\n{self.stderr}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
