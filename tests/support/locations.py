"""Where the tests find their captures and peer helpers: inside the repository.

``tests/fixtures/`` holds the real captures and ``tests/support/peers/`` the files handed to real peers
(their READMEs list sources and licences), so a clone runs the suite with nothing beside it. The lab's
``shared/`` folder (``$OMADS_SHARED``, else ``../shared`` beside the checkout; ``OMADS_SHARED=`` empty turns
it off) may add captures the repository lacks: :func:`captures` lists them after the repository's own, and
:mod:`tests.support.boundaries` lets a test read exactly those and nothing else out there.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PEERS = REPO / "tests" / "support" / "peers"

SHARED_PREFIX = "shared:"  # how a capture that only the shared folder has is named in test ids

_granted: set[Path] = set()  # shared files handed out by captures(), the only ones a test may read


def shared_root() -> Path | None:
    """The lab's shared/ folder if one is configured or sits beside the checkout, else None."""
    env = os.environ.get("OMADS_SHARED")
    if env is not None:
        return Path(env).resolve() if env else None
    beside = REPO.parent / "shared"
    return beside.resolve() if beside.is_dir() else None


def shared_fixtures() -> Path | None:
    root = shared_root()
    return root / "fixtures" if root is not None and (root / "fixtures").is_dir() else None


def captures(pattern: str, under: str = "") -> list[Path]:
    """Files matching ``pattern`` (a ``Path.glob`` pattern) below ``tests/fixtures/<under>``, sorted;
    then, sorted, those below the shared fixtures whose place the repository does not fill."""
    own = sorted((FIXTURES / under).glob(pattern))
    extra_root = shared_fixtures()
    if extra_root is None:
        return own
    have = {p.relative_to(FIXTURES) for p in own}
    extra = sorted(p for p in (extra_root / under).glob(pattern)
                   if p.is_file() and p.relative_to(extra_root) not in have)
    _granted.update(p.resolve() for p in extra)
    return own + extra


def ident(path: Path) -> str:
    """A capture's name in test ids: its place below tests/fixtures (or ``shared:`` and its place there)."""
    try:
        return str(path.relative_to(FIXTURES))
    except ValueError:
        extra_root = shared_fixtures()
        if extra_root is None:
            raise
        return SHARED_PREFIX + str(path.relative_to(extra_root))


def granted(path: Path) -> bool:
    """Whether ``path`` (resolved) is a shared capture that :func:`captures` handed out."""
    return path in _granted


def peer_file(*parts: str) -> Path:
    """A file handed to a real peer, e.g. ``peer_file("syncevolution", "securlfix.c")``."""
    path = PEERS.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the repository (see {PEERS / 'README.md'})")
    return path
