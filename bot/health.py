"""The small status report behind GET /healthz."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from store import outbox
from store.db import session_scope

log = logging.getLogger(__name__)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@dataclass(frozen=True, kw_only=True)
class Health:
    """Answers whether the bot can do its job: database reachable, queue moving."""

    engine: Engine
    mode: str
    last_poll: Callable[[], datetime | None]
    last_post: Callable[[], datetime | None]
    x_queue: Callable[[], int] | None = None  # replies and DMs waiting in the X outbox

    def report(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and JSON body: 200 when the database answers, 503 otherwise."""
        body: dict[str, Any] = {"status": "ok", "mode": self.mode}
        try:
            with session_scope(self.engine, readonly=True) as session:
                body["slack_queue"] = outbox.count_unfinished(session=session)
            if self.x_queue is not None:
                body["x_queue"] = self.x_queue()
            body["database"] = "ok"
        except SQLAlchemyError as exc:
            log.error("health check: database unreachable (%s)", type(exc).__name__)
            body.update(status="error", database="unreachable")
        body["last_x_poll"] = _iso(self.last_poll())
        body["last_slack_post"] = _iso(self.last_post())
        return (200 if body["status"] == "ok" else 503), body
