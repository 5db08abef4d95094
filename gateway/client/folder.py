"""A plain folder as a local store: one file per item (``.vcf``, ``.ics``, ``.txt``).

The file name is the LUID. What was last synced is kept as content hashes in
``.omads-sync/synced.json`` inside the folder (hidden files are never items); ``flush``
writes it, atomically, and the CLI calls it after every message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gateway.client.tracking import content_hash, diff
from gateway.ds.client.errors import LocalStoreError
from gateway.ds.client.store import Change

EXTENSIONS = {"text/vcard": ".vcf", "text/x-vcard": ".vcf", "text/calendar": ".ics",
              "text/x-vcalendar": ".ics", "text/plain": ".txt", "text/x-vnote": ".txt"}
META_DIR = ".omads-sync"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class FolderStore:
    def __init__(self, path: Path | str, content_type: str = "text/vcard"):
        self.path = Path(path)
        self.content_type = content_type
        self.extension = EXTENSIONS.get(content_type.lower(), ".txt")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / META_DIR).mkdir(exist_ok=True)
        except OSError as exc:
            raise LocalStoreError(f"{self.path}: {exc.strerror or exc}") from None
        self._synced_file = self.path / META_DIR / "synced.json"
        self.synced: dict[str, str] = self._load()
        self._dirty = False
        self._taken: set[str] | None = None

    def _load(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._synced_file.read_text("utf-8")))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LocalStoreError(f"{self._synced_file}: {exc}") from None

    def flush(self) -> None:
        if self._dirty:
            _atomic_write(self._synced_file, json.dumps(self.synced, sort_keys=True,
                                                        indent=0).encode("utf-8"))
            self._dirty = False

    def _file(self, luid: str) -> Path:
        if not luid or "/" in luid or luid.startswith(".") or luid in ("..",):
            raise LocalStoreError(f"unusable item name {luid!r}")
        return self.path / luid

    # -- LocalStore ----------------------------------------------------------------------
    def luids(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.path)
                          if e.is_file() and not e.name.startswith("."))
        except OSError as exc:
            raise LocalStoreError(f"{self.path}: {exc.strerror or exc}") from None

    def changes(self) -> list[Change]:
        return diff(((luid, content_hash(self._read(luid))) for luid in self.luids()),
                    self.synced)

    def _read(self, luid: str) -> bytes:
        try:
            return self._file(luid).read_bytes()
        except OSError as exc:
            raise LocalStoreError(f"{luid}: {exc.strerror or exc}") from None

    def read(self, luid: str) -> bytes | None:
        try:
            return self._file(luid).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LocalStoreError(f"{luid}: {exc.strerror or exc}") from None

    def _new_name(self) -> str:
        if self._taken is None:
            self._taken = set(self.luids())
        n = len(self._taken) + 1
        while f"s{n:06d}{self.extension}" in self._taken or \
                self._file(f"s{n:06d}{self.extension}").exists():
            n += 1
        name = f"s{n:06d}{self.extension}"
        self._taken.add(name)
        return name

    def add(self, data: bytes, content_type: str) -> str:
        luid = self._new_name()
        self._write(luid, data)
        return luid

    def _write(self, luid: str, data: bytes) -> None:
        try:
            _atomic_write(self._file(luid), data)
        except OSError as exc:
            raise LocalStoreError(f"{luid}: {exc.strerror or exc}") from None
        self.synced[luid] = content_hash(data)
        self._dirty = True

    def replace(self, luid: str, data: bytes, content_type: str) -> bool:
        if not self._file(luid).is_file():
            return False
        self._write(luid, data)
        return True

    def delete(self, luid: str) -> bool:
        self.forget(luid)
        try:
            self._file(luid).unlink()
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise LocalStoreError(f"{luid}: {exc.strerror or exc}") from None

    def mark_synced(self, luid: str) -> None:
        data = self.read(luid)
        if data is not None:
            self.synced[luid] = content_hash(data)
            self._dirty = True

    def forget(self, luid: str) -> None:
        if self.synced.pop(luid, None) is not None:
            self._dirty = True

    # -- client state beside the items ----------------------------------------------------
    def state_path(self) -> Path:
        return self.path / META_DIR / "state.json"

    def close(self) -> None:
        self.flush()
