"""Blocking engine calls off the reactor thread, one at a time per session.

``ThreadPoolService`` owns a bounded ``ThreadPool`` (started and stopped with the service
tree); ``thread_runner`` turns it into a ``run(fn, *args) -> Deferred`` callable;
``SessionSerializer`` wraps such a callable so that calls with the same session key run
one after another (a ``DeferredLock`` per key, dropped as soon as the key is idle).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

__all__ = ["ThreadPoolService", "thread_runner", "SessionSerializer", "Runner"]

Runner = Callable[..., "Deferred[Any]"]


class ThreadPoolService(Service):
    """Starts a thread pool with the service tree; stopping waits for running calls."""

    def __init__(self, size: int, *, name: str = "engine-threads"):
        self.name = name
        self.pool = ThreadPool(minthreads=0, maxthreads=size, name=name)

    def startService(self) -> None:
        super().startService()
        self.pool.start()

    def stopService(self) -> None:
        super().stopService()
        self.pool.stop()


def thread_runner(reactor: IReactorFromThreads, pool: ThreadPool) -> Runner:
    """``run(fn, *args)``: call ``fn`` in ``pool``; the Deferred fires on the reactor."""
    return functools.partial(deferToThreadPool, reactor, pool)


class SessionSerializer:
    """Runs calls through ``run``; calls that share a key never overlap."""

    def __init__(self, run: Runner):
        self._run = run
        self._slots: dict[str, list[Any]] = {}   # key -> [DeferredLock, calls queued or running]

    def __len__(self) -> int:
        """How many keys have a call queued or running."""
        return len(self._slots)

    def run(self, key: str | None, fn: Callable[..., Any], *args: Any) -> Deferred[Any]:
        """Call ``fn(*args)`` through the runner once no other call for ``key`` runs."""
        if key is None:
            return self._run(fn, *args)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = [DeferredLock(), 0]
        slot[1] += 1
        d = slot[0].run(self._run, fn, *args)

        def done(result: Any) -> Any:
            slot[1] -= 1
            if slot[1] == 0 and self._slots.get(key) is slot:
                del self._slots[key]
            return result

        return d.addBoth(done)
