"""Every HTTP call to X as one record: what it was, how it ended, what X said of its window.

The transport of `bot/x.py` reports each call to its listeners: the posting pace reads
the rate-limit headers (`bot/pace.py`), the budget counts and prices it
(`bot/x_budget.py`), the metrics count it by outcome (`bot/metrics.py`). tweepy returns
only the JSON, so the transport is the one place that sees status and headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

_URL = re.compile(r"https?://\S", re.IGNORECASE)


class XKind(StrEnum):
    """What X bills a call as (SPEC §11)."""

    POST_READ = "post_read"
    OWNED_READ = "owned_read"
    USER_READ = "user_read"
    DM_EVENT_READ = "dm_event_read"
    POST = "post"
    POST_WITH_URL = "post_with_url"
    DM_SENT = "dm_sent"


# X's published pay-per-use prices in USD (SPEC §11); X_PRICES overrides any of them.
DEFAULT_PRICES: dict[XKind, float] = {
    XKind.POST_READ: 0.005,
    XKind.OWNED_READ: 0.001,
    XKind.USER_READ: 0.010,
    XKind.DM_EVENT_READ: 0.010,
    XKind.POST: 0.015,
    XKind.POST_WITH_URL: 0.20,
    XKind.DM_SENT: 0.015,
}


def parse_prices(value: str) -> dict[XKind, float]:
    """`X_PRICES`: `kind=USD` pairs, `,`- or `;`-separated; kinds not named keep X's price."""
    prices = dict(DEFAULT_PRICES)
    for part in re.split(r"[,;]", value):
        if not part.strip():
            continue
        name, equals, amount = part.partition("=")
        name = name.strip().lower()
        if not equals or name not in set(XKind):
            raise ValueError(
                f"expected kind=USD pairs with kinds {', '.join(XKind)}; “{name[:30]}” is not one"
            )
        try:
            price = float(amount)
        except ValueError:
            raise ValueError(f"the price of {name} is not a number") from None
        if not 0 <= price < 1000:
            raise ValueError(f"the price of {name} must be between 0 and 1000 USD")
        prices[XKind(name)] = price
    return prices


class Outcome(StrEnum):
    """How a call ended, as operators count it."""

    OK = "ok"
    RATE_LIMITED = "429"
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"
    REFUSED = "4xx"  # any other refusal (duplicate, 402 credits, 403 DMs closed)


# Where X's posting limits apply: `POST /2/tweets` and the DM endpoint.
POST_ROUTE = "POST /2/tweets"
DM_ROUTE = "POST /2/dm_conversations/with/:id/messages"


def route_of(method: str, path: str) -> str:
    """A call's route with ids taken out, e.g. `GET /2/users/:id/mentions`."""
    path = re.sub(r"/2/users/\d+/", "/2/users/:id/", path)
    path = re.sub(r"/2/tweets/\d+$", "/2/tweets/:id", path)
    path = re.sub(r"/2/dm_conversations/with/\d+/", "/2/dm_conversations/with/:id/", path)
    return f"{method.upper()} {path}"


@dataclass(frozen=True)
class Window:
    """X's rate-limit window of a route as its headers said, at `seen_at`."""

    limit: int
    remaining: int
    reset_at: datetime


@dataclass(frozen=True)
class XCall:
    """One finished (or failed) HTTP call to X."""

    route: str
    outcome: Outcome
    status: int | None
    window: Window | None
    kind: XKind | None  # None: not billed (an error, or a route X does not price)
    units: int  # how many of `kind` X bills: posts or events read, or 1 for a post


XListener = Callable[[XCall], None]


def read_window(headers: Any) -> Window | None:
    """The `x-rate-limit-*` headers, or None when X sent none (or unreadable ones)."""
    try:
        limit = int(headers["x-rate-limit-limit"])
        remaining = int(headers["x-rate-limit-remaining"])
        reset = int(headers["x-rate-limit-reset"])
    except (KeyError, TypeError, ValueError):
        return None
    return Window(limit, max(0, remaining), datetime.fromtimestamp(reset, UTC))


def outcome_of(status: int) -> Outcome:
    """A status code as an outcome."""
    if status == 429:
        return Outcome.RATE_LIMITED
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status >= 400:
        return Outcome.REFUSED
    return Outcome.OK


def billed(
    route: str, status: int, request_body: bytes | None, body: bytes
) -> tuple[XKind | None, int]:
    """What X bills for a successful call: the kind, and how many (SPEC §11).

    Reads are billed per resource returned (a page of 40 mentions is 40 owned reads), a
    post or DM per request; a post with a link costs more. Failed calls are not billed.
    """
    if not 200 <= status < 300:
        return None, 0
    if route == POST_ROUTE:
        text = _json(request_body).get("text", "") if request_body else ""
        return (XKind.POST_WITH_URL if _URL.search(str(text)) else XKind.POST), 1
    if route == DM_ROUTE:
        return XKind.DM_SENT, 1
    if not route.startswith("GET "):
        return None, 0
    if route in ("GET /2/users/:id/mentions", "GET /2/users/:id/tweets"):
        kind = XKind.OWNED_READ
    elif route.startswith("GET /2/tweets"):
        kind = XKind.POST_READ
    elif "dm_events" in route:
        kind = XKind.DM_EVENT_READ
    elif route.startswith("GET /2/users"):
        kind = XKind.USER_READ
    else:
        return None, 0
    data = _json(body).get("data")
    units = len(data) if isinstance(data, list) else (1 if isinstance(data, dict) else 0)
    return kind, units


def _json(raw: bytes | None) -> dict[str, Any]:
    try:
        loaded = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
