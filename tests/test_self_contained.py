"""The suite is self-contained: its captures and peer helpers are in the repository with their sources and
licences listed, the locators find them there, and tests/support/boundaries.py fails a test that reads
outside the repository or starts a third-party peer without the interop marker."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.support import locations
from tests.support.locations import FIXTURES, PEERS, REPO

ROW = re.compile(r"^\| ([^|`]+?) \| .* \| ([^|]+?) \|$", re.M)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "README.md"}


def test_every_public_trace_has_its_source_and_licence_listed() -> None:
    folder = FIXTURES / "public-traces"
    table = (folder / "README.md").read_text("utf-8").split("\n## Files\n")[1].split("\n## ")[0]
    rows = {name: licence for name, licence in ROW.findall(table) if name != "file"}
    assert _files(folder) == set(rows)
    assert all(licence.strip() for licence in rows.values())
    assert len(rows) == 40


def test_the_other_copies_say_where_they_came_from() -> None:
    index = (FIXTURES / "README.md").read_text("utf-8")
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == {"public-traces", "syncevolution"}
    for folder in ("public-traces", "syncevolution"):
        assert f"`{folder}/`" in index and (FIXTURES / folder / "README.md").is_file()
    assert len(_files(FIXTURES / "syncevolution")) == 252
    peers = (PEERS / "README.md").read_text("utf-8")
    assert _files(PEERS) and all(f"`{name}`" in peers for name in _files(PEERS))


def test_the_locators_find_the_repository_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMADS_SHARED", "")  # as in a clone with nothing beside it
    assert locations.shared_root() is None
    found = locations.captures("**/*.wbxml")
    assert found == sorted(FIXTURES.rglob("*.wbxml")) and len(found) >= 80
    assert all(p.is_relative_to(FIXTURES) for p in found)
    assert locations.peer_file("syncevolution", "securlfix.c").is_relative_to(REPO)
    from tests.content import content_samples
    from tests.syncml import captures

    assert captures.FIXTURES == content_samples.TRACES.parent == FIXTURES
    assert captures.all_captures() and all(p.is_relative_to(FIXTURES) for p in captures.all_captures())
    assert content_samples.syncevolution_vcards()  # read from the repository
    with pytest.raises(FileNotFoundError, match="missing from the repository"):
        locations.peer_file("syncevolution", "nope.c")


def test_shared_only_adds_what_the_repository_lacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "shared" / "fixtures" / "public-traces"
    (extra / "horde-syncml").mkdir(parents=True)
    own = FIXTURES / "public-traces/horde-syncml/se-p900-v10-pkg3-sync-delete.xml"
    (extra / "horde-syncml" / own.name).write_bytes(b"<SyncML/>")  # the repository's place: not used
    (extra / "horde-syncml" / "zz-new.xml").write_bytes(b"<SyncML/>")
    monkeypatch.setenv("OMADS_SHARED", str(tmp_path / "shared"))
    found = locations.captures("**/*.xml", "public-traces")
    assert found[:-1] == sorted((FIXTURES / "public-traces").rglob("*.xml"))
    assert found[-1] == (extra / "horde-syncml" / "zz-new.xml").resolve() and own in found
    assert locations.ident(found[-1]) == "shared:public-traces/horde-syncml/zz-new.xml"
    assert locations.granted(found[-1]) and not locations.granted((extra / "horde-syncml" / own.name).resolve())


# The modules that may name the lab's folder; anything else doing so would read outside the repository.
LOCATOR = REPO / "tests" / "support" / "locations.py"
BOUNDARIES = REPO / "tests" / "support" / "boundaries.py"  # watches that folder
OUTSIDE = re.compile(r"OMADS_SHARED|\.parents?\b[^\n#]*[/,]\s*[\"']shared\b|[\"'](?:\.\./)?shared/(?:fixtures|peers)"
                     r"|[\"']/work/")


def test_no_test_names_a_folder_outside_the_repository() -> None:
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")) + sorted((REPO / "bench").rglob("*.py")):
        if path in (LOCATOR, BOUNDARIES, Path(__file__).resolve()):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []


PROBE = '''
import subprocess
from pathlib import Path

import pytest

SHARED = Path({shared!r})
FAKE_PEER = {peer!r}


def test_reads_a_shared_file():
    (SHARED / "fixtures" / "x.xml").read_bytes()


def test_hands_a_shared_path_to_a_subprocess():
    subprocess.run(["cat", str(SHARED / "fixtures" / "x.xml")], capture_output=True, timeout=30)


def test_reads_a_file_in_the_repository():
    assert Path({inside!r}).read_bytes()


def test_starts_a_peer_unmarked():
    subprocess.run([FAKE_PEER], timeout=30)


@pytest.mark.interop
def test_starts_a_peer_marked():
    subprocess.run([FAKE_PEER], timeout=30)
'''


def test_boundaries_fail_reads_outside_and_unmarked_peers(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "fixtures").mkdir(parents=True)
    (shared / "fixtures" / "x.xml").write_bytes(b"<SyncML/>")
    (tmp_path / "bin").mkdir()
    peer = tmp_path / "bin" / "wbxml2xml"  # named like a peer, does nothing
    peer.symlink_to("/bin/true")
    probe = tmp_path / "probe" / "test_probe.py"
    probe.parent.mkdir()
    probe.write_text(textwrap.dedent(PROBE.format(shared=str(shared), peer=str(peer),
                                                  inside=str(FIXTURES / "README.md"))))
    (probe.parent / "pytest.ini").write_text("[pytest]\nmarkers =\n    interop: a third-party peer\n")
    junit = tmp_path / "junit.xml"
    env = {"PATH": "/usr/bin:/bin", "OMADS_SHARED": str(shared), "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.support.boundaries", "-p", "no:cacheprovider",
                          "-c", str(probe.parent / "pytest.ini"), "--strict-markers", f"--junitxml={junit}",
                          "-q", str(probe)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    outcomes = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        failure = case.find("failure")
        outcomes[case.get("name")] = "passed" if failure is None else failure.get("message", "") + (failure.text or "")
    assert set(outcomes) == {"test_reads_a_shared_file", "test_hands_a_shared_path_to_a_subprocess",
                             "test_reads_a_file_in_the_repository", "test_starts_a_peer_unmarked",
                             "test_starts_a_peer_marked"}, res.stdout + res.stderr
    assert outcomes["test_reads_a_file_in_the_repository"] == "passed"
    assert outcomes["test_starts_a_peer_marked"] == "passed"
    for name in ("test_reads_a_shared_file", "test_hands_a_shared_path_to_a_subprocess"):
        assert "outside the repository" in outcomes[name] and "x.xml" in outcomes[name]
    assert "started wbxml2xml (libwbxml2, a third-party peer) without @pytest.mark.interop" in \
        outcomes["test_starts_a_peer_unmarked"]
    assert res.returncode == 1
