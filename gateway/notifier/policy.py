"""What the queue decisions read: the retry backoff (written once) and the limits.

``Retry`` is the one retry rule, for a send that failed and for a delivery report that
said the SMS was not delivered: after the k-th attempt the next one waits
``delay * 2**(k-1)`` seconds (``backoff(k)``, capped at ``max_delay``), and after
``max_attempts`` there is none (``exhausted(k)``). ``Limits`` is the part of ``[notify]`` (gateway.config.notify.NotifySettings)
the claim decisions read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.store.notifications import NotifyDevice

__all__ = ["Retry", "Limits"]


@dataclass(frozen=True, kw_only=True)
class Retry:
    delay: float = 30.0           # before the second attempt
    max_delay: float = 3600.0     # the backoff never waits longer
    max_attempts: int = 5         # attempts in all, the first included

    def backoff(self, attempts: int) -> float:
        """Seconds between attempt ``attempts`` (1 = the first) and the next one."""
        return min(self.delay * 2 ** max(attempts - 1, 0), self.max_delay)

    def exhausted(self, attempts: int) -> bool:
        """No attempt is left once ``attempts`` were made."""
        return attempts >= self.max_attempts


class Limits(Protocol):
    """The settings the claim and outcome decisions read."""

    @property
    def retry(self) -> Retry: ...
    @property
    def lease(self) -> float: ...                       # a claim's lease, seconds
    @property
    def device_max_per_hour(self) -> int: ...
    @property
    def daily_sms_budget(self) -> int: ...              # SMS parts per UTC day
    @property
    def dlr_timeout(self) -> float: ...                 # wait for delivery reports
    @property
    def dlr_url_base(self) -> str | None: ...           # None: ask for no reports
    @property
    def report_kinds(self) -> frozenset[str]: ...       # carriers asked for reports
    @property
    def ui_mode(self) -> int: ...

    def device(self, device_id: str) -> NotifyDevice | None:
        """A ``[[notify.device]]`` of the configuration."""
