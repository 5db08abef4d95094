"""``omads-admin`` (gateway.admin.cli) against a temporary SQLite database."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.admin.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from gateway.store.accounts import make_secret
from gateway.store.base import Device
from gateway.store.sqlite.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


class Run:
    def __init__(self, db: Path):
        self.db = db

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--db", str(self.db), *argv], out=out, err=err, stdin=io.StringIO(stdin))
        return code, out.getvalue(), err.getvalue()

    def account(self, name: str):  # type: ignore[no-untyped-def]
        store = SQLiteStore(self.db)
        try:
            with store.transaction() as tx:
                return tx.get_account(name)
        finally:
            store.close()


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path / "var" / "omads.sqlite")


def test_user_add_with_password_option(run: Run) -> None:
    """``user add NAME --password P`` stores B64(MD5(name:P)) and creates the database."""
    assert run("user", "add", "alice", "--password", "pw1") == (EXIT_OK, "added user alice\n", "")
    acc = run.account("alice")
    assert acc.secret == make_secret("alice", "pw1") and acc.enabled


def test_user_add_reads_password_from_stdin(run: Run) -> None:
    """Without --password a non-terminal stdin supplies the first line."""
    assert run("user", "add", "bob", stdin="from-stdin\nignored\n")[0] == EXIT_OK
    assert run.account("bob").secret == make_secret("bob", "from-stdin")


def test_user_add_empty_password_fails(run: Run) -> None:
    """An empty password is refused and nothing is created."""
    code, _, err = run("user", "add", "bob", stdin="\n")
    assert code == EXIT_FAILED and "empty password" in err


def test_user_add_existing_fails(run: Run) -> None:
    """Adding an existing user fails with exit 1 and keeps the old password."""
    run("user", "add", "alice", "-p", "one")
    code, _, err = run("user", "add", "alice", "-p", "two")
    assert code == EXIT_FAILED and "exists" in err
    assert run.account("alice").secret == make_secret("alice", "one")


def test_user_passwd_changes_secret(run: Run) -> None:
    """``user passwd`` replaces the secret; unknown users fail."""
    run("user", "add", "alice", "-p", "one")
    assert run("user", "passwd", "alice", "--password", "two")[0] == EXIT_OK
    assert run.account("alice").secret == make_secret("alice", "two")
    code, _, err = run("user", "passwd", "nobody", "-p", "x")
    assert code == EXIT_FAILED and "no user 'nobody'" in err


def test_user_remove(run: Run) -> None:
    """``user remove`` deletes; a second removal fails."""
    run("user", "add", "alice", "-p", "one")
    assert run("user", "remove", "alice") == (EXIT_OK, "removed user alice\n", "")
    assert run.account("alice") is None
    assert run("user", "remove", "alice")[0] == EXIT_FAILED


def test_user_disable_and_enable(run: Run) -> None:
    """Disabling keeps the account but marks it; enabling reverses it."""
    run("user", "add", "alice", "-p", "one")
    assert run("user", "disable", "alice")[0] == EXIT_OK
    assert run.account("alice").enabled is False
    assert run("user", "list")[1] == "alice\tdisabled\n"
    assert run("user", "enable", "alice")[0] == EXIT_OK
    assert run.account("alice").enabled is True


def test_user_list(run: Run) -> None:
    """``user list`` prints one line per account."""
    run("user", "add", "bob", "-p", "x")
    run("user", "add", "alice", "-p", "y")
    code, out, _ = run("user", "list")
    assert code == EXIT_OK
    assert sorted(out.splitlines()) == ["alice\tenabled", "bob\tenabled"]


def test_list_without_database_fails_without_creating_it(run: Run) -> None:
    """Read-only commands do not create a database."""
    code, _, err = run("user", "list")
    assert code == EXIT_FAILED and "no database" in err
    assert not run.db.exists()


def test_device_list(run: Run) -> None:
    """``device list`` shows devices with user and last contact, filtered by --user."""
    run("user", "add", "alice", "-p", "x")
    store = SQLiteStore(run.db)
    with store.transaction() as tx:
        tx.put_device(Device(device_id="IMEI:1", username="alice", last_seen=0.0))
        tx.put_device(Device(device_id="IMEI:2", username=None))
    store.close()
    code, out, _ = run("device", "list")
    lines = sorted(out.splitlines())
    assert code == EXIT_OK and len(lines) == 2
    assert lines[0].startswith("IMEI:1\talice\t") and not lines[0].endswith("never")
    assert lines[1] == "IMEI:2\t-\tnever"
    assert run("device", "list", "--user", "alice")[1].startswith("IMEI:1\t")


def test_store_path_from_config(tmp_path: Path) -> None:
    """--config uses the file's [store] path; --db overrides it."""
    db = tmp_path / "fromconf.sqlite"
    conf = tmp_path / "c.toml"
    conf.write_text(f'[store]\npath = "{db}"\n')
    out, err = io.StringIO(), io.StringIO()
    assert main(["--config", str(conf), "user", "add", "u", "-p", "p"], out=out, err=err) == 0
    assert db.exists()
    other = tmp_path / "other.sqlite"
    assert main(["--config", str(conf), "--db", str(other), "user", "add", "v", "-p", "p"],
                out=out, err=err) == 0
    assert other.exists()


def test_bad_config_is_usage_error(tmp_path: Path) -> None:
    """A config with problems gives exit 2 and the problem list."""
    conf = tmp_path / "c.toml"
    conf.write_text("colour = 1\n")
    err = io.StringIO()
    assert main(["--config", str(conf), "user", "list"], out=io.StringIO(), err=err) == EXIT_USAGE
    assert "colour" in err.getvalue()


def test_bad_arguments_are_usage_errors(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown commands and missing names exit 2 (argparse prints the usage)."""
    assert run("user", "frob")[0] == EXIT_USAGE
    assert run("user", "add")[0] == EXIT_USAGE
    assert run()[0] == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_module_runs_as_a_program(tmp_path: Path) -> None:
    """``python -m gateway.admin.cli`` works (what the omads-admin script calls)."""
    db = tmp_path / "m.sqlite"
    result = subprocess.run(
        [sys.executable, "-m", "gateway.admin.cli", "--db", str(db), "user", "add", "z"],
        input="pw\n", capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "added user z\n"


def test_device_commands_are_all_registered(run: Run,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``device`` offers list, show, forget, the notify commands and sync (each with its
    --help)."""
    assert run("device", "--help")[0] == EXIT_OK
    assert "{list,show,forget,notify,notify-status,notify-setup,sync}" in capsys.readouterr().out
    for action in ("show", "forget", "notify", "notify-status", "notify-setup", "sync"):
        assert run("device", action, "--help")[0] == EXIT_OK
        assert "usage: omads-admin device " + action in capsys.readouterr().out


def test_device_sync_exit_codes(tmp_path: Path) -> None:
    """Bad usage of ``device sync`` exits 2; a handset that cannot be dialled exits 1."""
    import socket
    db = tmp_path / "omads.sqlite"
    SQLiteStore(db).close()
    conf = tmp_path / "c.toml"
    conf.write_text(f'[store]\npath = "{db}"\n')
    out, err = io.StringIO(), io.StringIO()
    argv = ["--config", str(conf), "device", "sync", "IMEI:1", "--timeout", "5"]
    assert main(argv + ["--via", "obex:fax:1"], out=out, err=err) == EXIT_USAGE
    assert "obex:tcp:HOST:PORT" in err.getvalue()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    err = io.StringIO()
    code = subprocess.run([sys.executable, "-m", "gateway.admin.cli", *argv, "--via",
                           f"obex:tcp:127.0.0.1:{closed}"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert code.returncode == EXIT_FAILED, code.stderr
    assert f"sync of IMEI:1 via obex:tcp:127.0.0.1:{closed} failed" in code.stderr


def test_notify_command_errors_exit_1(run: Run) -> None:
    """A refused notify command is the admin's own CommandError: exit 1, one line."""
    run("user", "add", "alice", "-p", "x")
    code, _, err = run("device", "notify", "IMEI:1", "--via", "fax:123")
    assert code == EXIT_FAILED and err.startswith("omads-admin: bad route 'fax:123'")
    code, _, err = run("device", "notify-status", "42")
    assert code == EXIT_FAILED and err == "omads-admin: no notification 42\n"
