"""What a process remembers of Redis (the cache, the Celery broker) being unreachable.

After a failure the service is not asked again for RETRY_SECONDS: while it is down a viral
petition's requests would otherwise each wait for a refused connection or a timeout. The log says
so once when an outage starts and once when it ends, not once per request, and names the error
only (never a key, a value or a task's arguments: they may hold an address).
"""

from __future__ import annotations

import logging
from time import monotonic

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class Outage:
    def __init__(self, service: str) -> None:
        self.service = service
        self._since: float | None = None  # when this process found it down; None: reachable
        self._retry_at = 0.0

    def ongoing(self) -> bool:
        """Down, and not to be tried again yet."""
        return self._since is not None and monotonic() < self._retry_at

    def began(self, error: Exception) -> None:
        """A call failed: skip the service for RETRY_SECONDS (warning once per outage)."""
        now = monotonic()
        if self._since is None:
            self._since = now
            log.warning(
                "%s cannot be reached (%s: %s); going on without it, trying again every %g s",
                self.service,
                type(error).__name__,
                error,
                RETRY_SECONDS,
            )
        self._retry_at = now + RETRY_SECONDS

    def ended(self) -> None:
        """A call succeeded."""
        if self._since is not None:
            log.info("%s is reachable again after %.0f s", self.service, monotonic() - self._since)
            self._since = None
