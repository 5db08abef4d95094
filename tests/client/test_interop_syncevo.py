"""omads-sync against SyncEvolution's own server: every mode, XML and WBXML, basic and md5."""

from __future__ import annotations

import pytest

from tests.client.scenario import walk_all_modes


@pytest.mark.interop
@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
@pytest.mark.parametrize("auth", ["basic", "md5"])
def test_every_mode_against_syncevolution_server(encoding, auth, syncevo_server, tmp_path):
    device = f"omads-{encoding}-{auth}"
    server = syncevo_server([device])
    counter = iter(range(900, 999))

    def server_add(card: bytes) -> None:
        (server.store_dir(device) / str(next(counter))).write_bytes(card)

    walk_all_modes(link=("--url", server.url), store=tmp_path / "items", auth=auth, encoding=encoding,
                   device=device, server_items=lambda: server.items(device),
                   server_add=server_add)
