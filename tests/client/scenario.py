"""One walk through every sync mode, shared by the interop tests of both servers.

After each step the client's folder and the server hold the same contacts (compared
with tests/interop/vcards.normalize_vcard), except for a local change the mode does not
send, which is accounted for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.client.runcli import check, contacts, folder_items, omads_sync, summary_row
from tests.interop.vcards import make_vcards, normalize_vcard


def edit_tel(card: bytes, tel: str) -> bytes:
    out = re.sub(rb"TEL;TYPE=CELL:[^\r\n]*", b"TEL;TYPE=CELL:" + tel.encode(), card)
    assert out != card
    return out


def walk_all_modes(*, link: tuple[str, ...], store: Path, auth: str, encoding: str, device: str,
                   server_items: Callable[[], dict[str, bytes]],
                   server_add: Callable[[bytes], None], datastore: str = "contacts",
                   extra: tuple[str, ...] = ()) -> None:
    store.mkdir(exist_ok=True)
    for name, card in make_vcards(6, seed=11).items():
        (store / name).write_bytes(card)

    def sync(mode: str, pending: bytes | None = None) -> dict[str, str]:
        done = check(omads_sync(*link, "--user", "alice", "--password", "secret",
                                "--auth", auth, "--encoding", encoding, "--device-id", device,
                                "--datastore", datastore, "--store", str(store),
                                "--mode", mode, *extra))
        expected = contacts(server_items())
        if pending is not None:                  # a local change the mode does not send
            expected[normalize_vcard(pending)] += 1
        assert contacts(folder_items(store)) == expected, done.stdout
        return summary_row(done.stdout)

    row = sync("slow")
    assert row["mode"] == "slow" and row["remote +"] == "6"
    assert len(server_items()) == 6

    names = sorted(folder_items(store))
    (store / names[0]).write_bytes(edit_tel((store / names[0]).read_bytes(), "+4930111"))
    (store / names[1]).unlink()
    (store / "new-1.vcf").write_bytes(make_vcards(1, seed=12)["c12-000001.vcf"])
    row = sync("two-way")
    assert (row["mode"], row["remote +"], row["remote ~"], row["remote -"]) == \
        ("two-way", "1", "1", "1")

    server_add(make_vcards(1, seed=13)["c13-000001.vcf"])
    local_only = make_vcards(1, seed=14)["c14-000001.vcf"]
    (store / "local-only.vcf").write_bytes(local_only)
    row = sync("one-way-from-server", pending=local_only)
    assert row["local +"] == "1" and row["remote +"] == "0"
    row = sync("one-way-from-client")
    assert row["remote +"] == "1" and row["local +"] == "0"
    assert len(server_items()) == 8

    row = sync("refresh-from-server")
    assert row["mode"] == "refresh-from-server" and row["local +"] == "8"
    (store / "after-refresh.vcf").write_bytes(make_vcards(1, seed=15)["c15-000001.vcf"])
    row = sync("refresh-from-client")
    assert row["mode"] == "refresh-from-client" and row["remote +"] == "9"
    assert len(server_items()) == 9

    row = sync("two-way")                        # nothing left to do on either side
    assert row["remote +"] == row["local +"] == "0"
