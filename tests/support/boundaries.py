"""Two boundaries of the suite, checked while it runs (a pytest plugin over ``sys.addaudithook``).

- **No test reads outside the repository.** Opening a file below the lab's shared/ folder (``../shared``
  beside the checkout, or ``$OMADS_SHARED``), or handing a path there to a subprocess, fails the test (and
  a collection error if a module does it on import). The one exception is a shared capture that
  :func:`tests.support.locations.captures` listed because the repository lacks it.
- **A test that drives a real third-party peer is marked** ``interop``: starting one of :data:`PEERS` (a
  program) or connecting a PyOBEX client, in a test without ``@pytest.mark.interop``, fails it (a peer
  a module-scoped fixture started for an earlier test is not seen again).

What counts as a third-party peer: software this project did not write and the gateway does not depend on
at run time, started or called by a test as the other side of a protocol or format the gateway implements
(a sync client or server, SMS gateway, SIP peer, OBEX client or server, browser, service manager, or an
independent codec such as ``wbxml2xml``). Not peers: the gateway's own programs in a subprocess, this
project's simulators (the in-memory and pty modems, carriers and sockets written for the tests), the
gateway's runtime libraries (lxml, Twisted, prometheus-client) and plumbing (``socat`` pty pairs and relays,
``gcc`` for a shim, a private ``dbus-run-session``).

``OMADS_PEER_LOG=FILE`` appends one JSON line per test (id, marked or not, peers started), to list them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support import locations

# program name -> the peer it is (what a test must be marked interop for).
PEERS = {
    "syncevolution": "SyncEvolution", "syncevo-dbus-server": "SyncEvolution",
    "syncevo-http-server": "SyncEvolution", "syncevo-http-server-lo.py": "SyncEvolution",
    "bearerbox": "Kannel", "smsbox": "Kannel", "wapbox": "Kannel", "fakesmsc": "Kannel",
    "sipp": "SIPp", "kamailio": "Kamailio",
    "obexftp": "obexftp", "obex_test": "openobex",
    "wbxml2xml": "libwbxml2", "xml2wbxml": "libwbxml2",
    "chromium": "Chromium", "chromedriver": "Chromium",
    "systemd-analyze": "systemd", "systemd-socket-activate": "systemd",
}


class OutsideRepository(RuntimeError):
    """A test read (or passed to a subprocess) a file outside the repository."""


def _roots() -> tuple[str, ...]:
    """The outside folders watched, as absolute paths with a trailing separator (both spellings)."""
    found = [locations.REPO.parent / "shared"]
    env = os.environ.get("OMADS_SHARED")
    if env:
        found.append(Path(env))
    repo = str(locations.REPO) + os.sep
    out = set()
    for root in found:
        for spelling in (os.path.abspath(root), os.path.realpath(root)):
            if not (spelling + os.sep).startswith(repo):
                out.add(spelling + os.sep)
    return tuple(sorted(out))


class Boundaries:
    def __init__(self, roots: tuple[str, ...], log: str | None = None) -> None:
        self.roots = roots
        self.log = log
        self.item: pytest.Item | None = None
        self.marked = False
        self.problems: list[str] = []
        self.peers: set[str] = set()

    # -- the audit hook: cheap for every event, thorough only for the few watched ones
    def audit(self, event: str, args: tuple) -> None:
        if event == "open":
            path = args[0]
            if not isinstance(path, int):
                self._check_path(path, "opened")
        elif event == "subprocess.Popen":
            self._check_command(args[0], args[1])
        elif event in ("os.posix_spawn", "os.exec"):
            self._check_command(args[0], args[1])
        elif event == "os.spawn":
            self._check_command(args[1], args[2])

    def outside(self, path) -> bool:
        try:
            text = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        if not (text + os.sep).startswith(self.roots):
            return False
        return not locations.granted(Path(os.path.realpath(text)))

    def _check_path(self, path, how: str) -> None:
        if self.roots and self.outside(path):
            self._problem(f"{how} {os.fsdecode(path)}, outside the repository (copy what the tests need "
                          f"into tests/fixtures or tests/support/peers, see tests/support/locations.py)")
            raise OutsideRepository(f"a test {how} {os.fsdecode(path)}, outside the repository")

    def _check_command(self, executable, argv) -> None:
        words: list[str] = []
        for arg in ([executable] if executable is not None else []) + (
                [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv or ())):
            try:
                words.extend(os.fsdecode(arg).split())
            except (TypeError, ValueError):
                continue
        for word in words:
            for part in [word] + word.split("=")[1:]:
                if self.roots and "/" in part and self.outside(part):
                    self._check_path(part, "handed a subprocess")
            peer = PEERS.get(os.path.basename(word))
            if peer is not None:
                self._peer(peer, os.path.basename(word))

    def watch_pyobex(self) -> None:
        """Once PyOBEX is imported (tests import it, the suite does not), note every client it connects."""
        module = sys.modules.get("PyOBEX.client")
        if module is None or getattr(module.Client.connect, "_omads_watched", False):
            return
        original = module.Client.connect

        def connect(*args, **kwargs):
            self._peer("PyOBEX", "PyOBEX")
            return original(*args, **kwargs)

        connect._omads_watched = True
        module.Client.connect = connect

    def _peer(self, peer: str, program: str) -> None:
        if self.item is None:
            return
        self.peers.add(peer)
        if not self.marked:
            self._problem(f"started {program} ({peer}, a third-party peer) without @pytest.mark.interop")

    def _problem(self, text: str) -> None:
        if self.item is not None and text not in self.problems:
            self.problems.append(text)

    # -- pytest hooks
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem):
        self.item, self.marked = item, item.get_closest_marker("interop") is not None
        self.problems, self.peers = [], set()
        self.watch_pyobex()
        yield
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"test": item.nodeid, "interop": self.marked,
                                    "peers": sorted(self.peers)}) + "\n")
        self.item = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        self.watch_pyobex()  # imported by a fixture
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        outcome = yield
        report = outcome.get_result()
        if self.problems and item is self.item and report.when in ("call", "teardown"):
            report.outcome = "failed"
            report.longrepr = "\n".join(["the suite's boundaries (tests/support/boundaries.py):"]
                                        + [f"  this test {p}" for p in self.problems]
                                        + ([str(report.longrepr)] if report.longrepr else []))
            self.problems = []


_installed: Boundaries | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _installed
    if _installed is None:  # audit hooks cannot be removed: one per process
        _installed = Boundaries(_roots(), os.environ.get("OMADS_PEER_LOG") or None)
        sys.addaudithook(_installed.audit)
    config.pluginmanager.register(_installed, "omads-boundaries")
