"""omads-sync against our own gateway daemon: every mode, XML and WBXML, basic and md5,
plus large objects and multi-message packages in both directions."""

from __future__ import annotations

import pytest

from tests.client.runcli import check, contacts, folder_items, omads_sync, summary_row
from tests.client.scenario import walk_all_modes
from tests.interop.vcards import make_vcards


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
@pytest.mark.parametrize("auth", ["basic", "md5"])
def test_every_mode_against_the_gateway(encoding, auth, gateway, tmp_path):
    walk_all_modes(link=("--url", gateway.url), store=tmp_path / "items", auth=auth, encoding=encoding,
                   device=f"omads-gw-{encoding}-{auth}", server_items=gateway.items,
                   server_add=gateway.add)


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_large_objects_and_multi_message_both_ways(encoding, gateway, tmp_path):
    store = tmp_path / "items"
    store.mkdir()
    big = make_vcards(2, seed=21, photo_bytes=40_000)
    small = make_vcards(60, seed=22)
    for name, card in {**big, **small}.items():
        (store / name).write_bytes(card)
    args = ("--url", gateway.url, "--user", "alice", "--password", "secret",
            "--encoding", encoding, "--max-msg-size", "12000")
    row = summary_row(check(omads_sync(*args, "--device-id", f"omads-big-{encoding}",
                                       "--store", str(store), "--mode", "slow")).stdout)
    assert row["remote +"] == "62"
    assert contacts(gateway.items()) == contacts(folder_items(store))

    for card in make_vcards(2, seed=23, photo_bytes=30_000).values():
        gateway.add(card)
    other = tmp_path / "other"
    done = check(omads_sync(*args, "--device-id", f"omads-big2-{encoding}",
                            "--store", str(other),
                            "--mode", "refresh-from-server"))
    assert summary_row(done.stdout)["local +"] == "64"
    assert contacts(folder_items(other)) == contacts(gateway.items())
    messages = done.stdout.splitlines()[-1]
    assert int(messages.split()[1]) > 5, messages      # the package took several messages
