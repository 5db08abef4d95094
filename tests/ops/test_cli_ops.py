"""omads-admin completeness: device show/forget, user export/import, db backup while the
store is in use, admin accounts, --json listings, notify refusing what nothing would
send, notify-status by device name, and `| head` without a traceback."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.admin import cli
from gateway.store.base import Device, SyncState
from gateway.store.ops import check_password, ops_store
from gateway.store.sqlite.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
DEVINF = (b'<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><Man>Nokia</Man>'
          b'<Mod>E71</Mod><FwV>1.0</FwV><SwV>2.0</SwV><HwV>3</HwV><DevID>IMEI:1</DevID>'
          b'<DevTyp>phone</DevTyp><DataStore><SourceRef>./C\\Contacts</SourceRef>'
          b'<Rx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Rx-Pref>'
          b'<Tx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Tx-Pref>'
          b'<SyncCap><SyncType>1</SyncType><SyncType>2</SyncType></SyncCap>'
          b'</DataStore></DevInf>')
CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u{n}\r\nFN:Person {n}\r\nN:{n};P;;;\r\nEND:VCARD\r\n"
EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
         "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
         "END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:e{n}\r\n"
         "DTSTART;TZID=Europe/Berlin:20260101T100000\r\nSUMMARY:Event {n}\r\nEND:VEVENT\r\n"
         "END:VCALENDAR\r\n")


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "omads.sqlite")
    assert cli.main(["--db", path, "user", "add", "alice", "-p", "pw"], out=io.StringIO()) == 0
    st = SQLiteStore(path)
    with st.transaction() as tx:
        tx.put_device(Device(device_id="IMEI:1", username="alice", devinf=DEVINF,
                             last_seen=time.time()))
        for ds in ("contacts", "calendar"):
            tx.put_sync_state(SyncState(device_id="IMEI:1", username="alice", datastore=ds,
                                        client_anchor="A1", server_anchor="S1", synced_rev=3))
    st.close()
    return path


def run(db: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--db", db, *argv], out=out, err=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


def test_device_show_decodes_devinf_and_json(db):
    code, out, _ = run(db, "device", "show", "IMEI:1")
    assert code == 0
    assert "Nokia E71" in out and "FwV 1.0, SwV 2.0, HwV 3" in out
    assert "./C\\Contacts" in out and "anchors     contacts: kept" in out
    assert "notify      not set up" in out
    code, out, _ = run(db, "device", "show", "IMEI:1", "--json")
    doc = json.loads(out)
    assert doc["devinf"]["mod"] == "E71" and doc["user"] == "alice"
    assert {s["datastore"] for s in doc["sync_states"]} == {"contacts", "calendar"}
    assert run(db, "device", "show", "IMEI:9")[0] == 1


def test_device_forget_one_datastore_or_all(db):
    code, out, _ = run(db, "device", "forget", "IMEI:1", "-d", "contacts")
    assert code == 0 and "contacts" in out and "calendar" not in out
    st = SQLiteStore(db)
    with st.transaction() as tx:
        assert tx.get_sync_state("IMEI:1", "alice", "contacts").client_anchor == ""
        assert tx.get_sync_state("IMEI:1", "alice", "calendar").client_anchor == "A1"
        assert tx.get_sync_state("IMEI:1", "alice", "contacts").synced_rev == 3
    st.close()
    code, out, _ = run(db, "device", "forget", "IMEI:1")
    assert code == 0 and "calendar" in out
    assert "no anchors to forget" in run(db, "device", "forget", "IMEI:1")[1]
    assert run(db, "device", "forget", "IMEI:1", "-d", "nope")[0] == 1


def test_listings_have_json(db):
    assert json.loads(run(db, "user", "list", "--json")[1]) == [
        {"name": "alice", "enabled": True, "devices": ["IMEI:1"]}]
    [dev] = json.loads(run(db, "device", "list", "--json")[1])
    assert dev["device"] == "IMEI:1" and dev["user"] == "alice"
    assert json.loads(run(db, "device", "notify-status", "--json")[1]) == []
    assert json.loads(run(db, "admin", "list", "--json")[1]) == []


def test_export_and_import_contacts_and_calendar(db, tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(CARD.format(n=n) for n in range(3)))
    code, out, _ = run(db, "user", "import", "alice", "-d", "contacts", str(vcf))
    assert code == 0 and "3 added, 0 replaced" in out
    vcf.write_text(CARD.format(n=1).replace("Person 1", "Renamed"))
    assert "0 added, 1 replaced" in run(db, "user", "import", "alice", "-d", "addressbook",
                                        str(vcf))[1]
    code, out, _ = run(db, "user", "export", "alice", "-d", "contacts", "-o",
                       str(tmp_path / "out.vcf"))
    text = (tmp_path / "out.vcf").read_text()
    assert code == 0 and text.count("BEGIN:VCARD") == 3 and "Renamed" in text
    ics = tmp_path / "in.ics"
    ics.write_text(EVENT.format(n=1) + EVENT.format(n=2))
    assert "2 added" in run(db, "user", "import", "alice", "-d", "calendar", str(ics))[1]
    run(db, "user", "export", "alice", "-d", "calendar", "-o", str(tmp_path / "out.ics"))
    out_ics = (tmp_path / "out.ics").read_text()
    assert out_ics.count("BEGIN:VCALENDAR") == 1 and out_ics.count("BEGIN:VEVENT") == 2
    assert out_ics.count("BEGIN:VTIMEZONE") == 1
    assert run(db, "user", "export", "alice", "-d", "contacts", "-o", "x.txt")[0] == 1
    assert run(db, "user", "export", "bob", "-d", "contacts", "-o", "x.vcf")[0] == 1


def test_db_backup_while_the_store_is_written(db, tmp_path):
    """Another connection keeps committing small transactions (as the daemon does) while
    the backup runs; the copy is a consistent database holding a committed state."""
    import threading
    stop = threading.Event()
    counts: list[int] = []

    def write() -> None:
        conn = sqlite3.connect(db, timeout=30, isolation_level=None)
        n = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO auth_failures (key, at) VALUES (?, ?)", (f"k{n}", n))
            conn.execute("COMMIT")
            n += 1
            counts.append(n)
        conn.close()

    t = threading.Thread(target=write)
    t.start()
    try:
        while len(counts) < 20:
            time.sleep(0.01)
        code, out, _ = run(db, "db", "backup", str(tmp_path / "copy.sqlite"))
    finally:
        stop.set()
        t.join(30)
    assert code == 0 and "backed up" in out
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (rows,) = copy.execute("SELECT COUNT(*) FROM auth_failures").fetchone()
    assert 20 <= rows <= counts[-1]
    assert copy.execute("SELECT username FROM accounts").fetchall() == [("alice",)]
    copy.close()
    assert run(db, "db", "backup", str(tmp_path / "copy.sqlite"))[0] == 1   # no overwrite


def test_admin_accounts(db):
    assert run(db, "admin", "add", "root", "-p", "pw1")[0] == 0
    assert run(db, "admin", "add", "root", "-p", "pw1")[0] == 1
    assert run(db, "admin", "passwd", "root", "-p", "pw2")[0] == 0
    assert run(db, "admin", "disable", "root")[0] == 0
    st = SQLiteStore(db)
    with ops_store(st).transaction() as (_tx, ops):
        a = ops.get_admin("root")
    st.close()
    assert check_password(a.secret, "pw2") and not check_password(a.secret, "pw1")
    assert not a.enabled and "pw2" not in a.secret


def test_notify_refuses_when_disabled_or_unreachable(db, tmp_path):
    off = tmp_path / "off.toml"
    off.write_text(f'[store]\npath = "{db}"\n')
    out, errs = io.StringIO(), io.StringIO()
    code = cli.main(["--config", str(off), "device", "notify", "IMEI:1", "--via",
                     "udp:127.0.0.1:9"], out=out, err=errs)
    assert code == 1 and "disabled" in errs.getvalue() and out.getvalue() == ""
    on = tmp_path / "on.toml"
    on.write_text(f'[store]\npath = "{db}"\n[notify]\nenabled = true\n[notify.sip]\n')
    out, errs = io.StringIO(), io.StringIO()
    code = cli.main(["--config", str(on), "device", "notify", "IMEI:1"], out=out, err=errs)
    assert code == 1 and "no route reaches IMEI:1" in errs.getvalue()
    out, errs = io.StringIO(), io.StringIO()
    code = cli.main(["--config", str(on), "device", "notify", "IMEI:1", "--via",
                     "udp:127.0.0.1:9"], out=out, err=errs)
    assert code == 1 and "configure [notify.udp]" in errs.getvalue()
    out, errs = io.StringIO(), io.StringIO()
    assert cli.main(["--config", str(on), "device", "notify", "IMEI:1", "--via",
                     "sip:dev@127.0.0.1:5099"], out=out, err=errs) == 0, errs.getvalue()
    code, text, _ = run(db, "device", "notify-status", "IMEI:1")
    assert code == 0 and text.split("\t")[:3] == ["1", "IMEI:1", "queued"]
    assert run(db, "device", "notify-status", "1")[1] == text
    assert run(db, "device", "notify-status", "IMEI:7")[0] == 1
    st = SQLiteStore(db)
    with st.transaction() as tx:
        assert tx.list_accounts()      # the queue is in the same database
    st.close()


def test_a_closed_pipe_ends_quietly(db):
    st = SQLiteStore(db)
    with st.transaction() as tx:
        for i in range(3000):
            tx.put_device(Device(device_id=f"IMEI:{i:06d}", username="alice"))
    st.close()
    done = subprocess.run(f"{sys.executable} -m gateway.admin.cli --db {db} device list | head -1",
                          shell=True, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.count("\n") == 1 and done.stderr == "", done.stderr
