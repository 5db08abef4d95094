"""Codec throughput: decode and encode of XML and WBXML Sync messages, to and from the model.

    .venv/bin/python bench/codec.py [--repeat N]

Prints one table: for 100 and 1,000 Add items of vCards, MB/s and messages/s of
decode (bytes -> model) and encode (model -> bytes), and of the tree-level codec alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.syncml import codec, wbxml, xmlcodec  # noqa: E402
from gateway.syncml import model as m  # noqa: E402
from gateway.syncml.metinf import Meta  # noqa: E402


def vcard(i: int) -> bytes:
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//bench//EN\r\n"
            f"UID:bench-{i:06d}\r\nN:Surname{i};Given{i};;;\r\nFN:Given{i} Surname{i}\r\n"
            f"TEL;TYPE=CELL:+4917{i:08d}\r\nEMAIL;TYPE=INTERNET:given{i}@example.org\r\n"
            f"ADR;TYPE=HOME:;;Street {i};City;;{10000 + i};Country\r\n"
            "NOTE:Generated for the codec benchmark\r\nEND:VCARD\r\n").encode()


def sync_message(n: int, opaque: bool) -> m.Message:
    adds = tuple(
        m.Add(cmd_id=str(i + 3), meta=Meta(type="text/vcard"),
              items=(m.Item(source=m.Location(loc_uri=f"c-{i:06d}.vcf"),
                            data=vcard(i) if opaque else vcard(i).decode()),))
        for i in range(n))
    hdr = m.SyncHdr(session_id="42", msg_id="2", target=m.Location(loc_uri="http://127.0.0.1:8080/sync"),
                    source=m.Location(loc_uri="bench-device", loc_name="demo"),
                    meta=Meta(max_msg_size=1_000_000))
    sync = m.Sync(cmd_id="2", target=m.Location(loc_uri="contacts"),
                  source=m.Location(loc_uri="./addressbook"), number_of_changes=n, commands=adds)
    return m.Message(header=hdr, body=m.SyncBody(commands=(sync,), final=True))


def rate(fn, size: int, repeat: int) -> tuple[float, float]:
    fn()  # warm up
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return size / best / 1e6, 1 / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rows = []
    for n in (100, 1000):
        for name, ctype, opaque, tree_codec in (("XML", codec.XML, False, xmlcodec),
                                                ("WBXML", codec.WBXML, True, wbxml)):
            msg = sync_message(n, opaque)
            data = codec.encode_message(msg, ctype)
            tree = tree_codec.decode(data)
            assert codec.decode_message(data, ctype) == msg
            for op, fn in (("decode -> model", lambda: codec.decode_message(data, ctype)),
                           ("encode <- model", lambda: codec.encode_message(msg, ctype)),
                           ("decode -> tree", lambda: tree_codec.decode(data)),
                           ("encode <- tree", lambda: tree_codec.encode(tree))):
                mbs, per_s = rate(fn, len(data), args.repeat)
                rows.append((name, n, len(data), op, mbs, per_s))
    print(f"{'codec':6} {'items':>6} {'bytes':>9}  {'operation':16} {'MB/s':>8} {'msg/s':>9}")
    for name, n, size, op, mbs, per_s in rows:
        print(f"{name:6} {n:>6} {size:>9}  {op:16} {mbs:8.1f} {per_s:9.1f}")


if __name__ == "__main__":
    main()
