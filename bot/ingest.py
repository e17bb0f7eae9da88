"""Ingest: polling X for what customers write, every stream from its cursor.

Each poll reads everything newer than the stream's cursor (all pages), hands it to the
inbox to store, and only then moves the cursor. A crash anywhere means the next poll
reads some tweets again; the inbox recognises them by their X id, so nothing is lost and
nothing doubled. X's refusals and rate limits back the stream off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.inbox import Inbox, IngestResult
from bot.x import XSide
from bot.x_models import TweetBatch, XError, XRateLimited, XRefused
from store import cursors
from store.db import session_scope
from store.models import TicketSource

log = logging.getLogger(__name__)

MENTIONS_STREAM = "mentions"
DM_STREAM = "dm"
DM_WINDOW = timedelta(minutes=15)
DM_REQUESTS_PER_WINDOW = 15  # X: GET /2/dm_events, 15 requests per 15 minutes per user
MAX_BACKOFF = timedelta(minutes=5)
UNREADABLE_TRIES = 3


def _nothing_opened(_tickets: Sequence[int]) -> None:
    return None


def search_stream(query: str) -> str:
    """The cursor name of one keyword query."""
    return f"search:{query}"


@dataclass(kw_only=True)
class Ingest:
    """Polls X and hands what it finds to the inbox."""

    engine: Engine
    x: XSide
    inbox: Inbox
    keyword_queries: Sequence[str] = ()
    backfill: timedelta = timedelta(hours=24)
    clock: Clock = system_clock
    # Called with the tickets each poll opened, once they are stored (auto-assignment).
    opened: Callable[[Sequence[int]], None] = _nothing_opened
    # Told what each poll of a stream stored (metrics count tickets in).
    listeners: list[Callable[[IngestResult], None]] = field(default_factory=list)
    # True while the X budget is used up: keyword searches wait, mentions and DMs go on.
    keywords_paused: Callable[[], bool] = lambda: False
    last_success: datetime | None = field(default=None, init=False)
    _dm_requests: list[datetime] = field(default_factory=list, init=False)
    _blocked_until: dict[str, datetime] = field(default_factory=dict, init=False)
    _failures: dict[str, int] = field(default_factory=dict, init=False)
    _unreadable: dict[str, int] = field(default_factory=dict, init=False)  # X id -> polls

    # -- polling -------------------------------------------------------------------------

    def poll_dms(self) -> IngestResult:
        """Read new direct messages to the brand account, within X's 15 reads per 15 minutes."""
        now = self.clock()
        blocked = self._blocked_until.get(DM_STREAM)
        if blocked is not None and blocked > now:
            return IngestResult()
        self._dm_requests = [t for t in self._dm_requests if now - t < DM_WINDOW]
        budget = DM_REQUESTS_PER_WINDOW - len(self._dm_requests)
        if budget <= 0:
            return IngestResult()
        with session_scope(self.engine) as session:
            since = cursors.since_id(session=session, name=DM_STREAM)
        try:
            batch = self.x.client.dm_events(after_id=since, max_requests=budget)
        except XError as exc:
            self._dm_requests.append(now)
            self._back_off(DM_STREAM, exc, now)
            return IngestResult()
        self._dm_requests.extend([now] * max(1, batch.requests))
        self._failures.pop(DM_STREAM, None)
        messages = batch.messages
        if since is None:  # the very first poll imports only the backfill window
            messages = [m for m in messages if m.created_at >= now - self.backfill]
        result = self.inbox.store_dms(messages)
        self.opened(result.new_tickets)
        self._tell(result)
        newest = self._readable_up_to(
            DM_STREAM, [m.id for m in batch.messages], batch.newest_id, batch.unreadable_ids
        )
        if batch.complete and newest is not None:
            with session_scope(self.engine) as session:
                cursors.advance(session=session, name=DM_STREAM, newest_id=newest, now=now)
        return result

    def poll(self) -> IngestResult:
        """One round: mentions, then every keyword query."""
        result = self.poll_mentions()
        result.add(self.poll_keywords())
        return result

    def poll_mentions(self) -> IngestResult:
        """Read new mentions of the brand account and store them."""
        return self._poll(
            MENTIONS_STREAM,
            lambda since, start: self.x.client.mentions(
                self.x.brand.id, since_id=since, start_time=start
            ),
            TicketSource.MENTION,
        )

    def poll_keywords(self) -> IngestResult:
        """Run every keyword query and store what it finds."""
        result = IngestResult()
        if self.keyword_queries and self.keywords_paused():
            return result
        for query in self.keyword_queries:
            result.add(
                self._poll(
                    search_stream(query),
                    lambda since, start, q=query: self.x.client.search(  # type: ignore[misc]
                        q, since_id=since, start_time=start
                    ),
                    TicketSource.KEYWORD,
                    query=query,
                )
            )
        return result

    def _poll(
        self,
        stream: str,
        fetch: Callable[[str | None, datetime | None], TweetBatch],
        source: TicketSource,
        *,
        query: str | None = None,
    ) -> IngestResult:
        now = self.clock()
        blocked = self._blocked_until.get(stream)
        if blocked is not None and blocked > now:
            return IngestResult()
        with session_scope(self.engine) as session:
            since = cursors.since_id(session=session, name=stream)
        start = now - self.backfill if since is None else None
        try:
            batch = fetch(since, start)
        except XError as exc:
            self._back_off(stream, exc, now)
            return IngestResult()
        self._failures.pop(stream, None)
        result = self.inbox.store(batch.tweets, source=source, query=query)
        self.opened(result.new_tickets)
        self._tell(result)
        newest = self._readable_up_to(
            stream, [t.id for t in batch.tweets], batch.newest_id, batch.unreadable_ids
        )
        if newest is not None:
            with session_scope(self.engine) as session:
                cursors.advance(session=session, name=stream, newest_id=newest, now=now)
        self.last_success = self.clock()
        return result

    def _tell(self, result: IngestResult) -> None:
        for listener in self.listeners:
            listener(result)

    def _readable_up_to(
        self, stream: str, read: Sequence[str], newest: str | None, unreadable: Sequence[str]
    ) -> str | None:
        """How far the cursor may move when X sent entries that could not be read.

        An unreadable entry may be X's hiccup, so the cursor stays below it and the next
        poll reads it again (the readable ones after it are recognised as duplicates);
        after `UNREADABLE_TRIES` polls it is given up, loudly, so one broken entry cannot
        hold the stream back for ever.
        """
        held: list[int] = []
        passable = [int(i) for i in read]
        for entry_id in unreadable:
            tries = self._unreadable.get(entry_id, 0) + 1
            if tries < UNREADABLE_TRIES:
                self._unreadable[entry_id] = tries
                held.append(int(entry_id))
                continue
            del self._unreadable[entry_id]
            passable.append(int(entry_id))
            log.error(
                "gave up on entry %s of %s: X sent it unreadable %d times", entry_id, stream, tries
            )
        if held:
            passable = [i for i in passable if i < min(held)]
        elif newest is not None:
            passable.append(int(newest))
        return str(max(passable)) if passable else None

    def _back_off(self, stream: str, exc: XError, now: datetime) -> None:
        failures = self._failures.get(stream, 0) + 1
        self._failures[stream] = failures
        if isinstance(exc, XRateLimited):
            until = exc.reset_at if exc.reset_at and exc.reset_at > now else now + MAX_BACKOFF
            log.warning("X rate limit on %s; next poll after %s", stream, until.isoformat())
        elif isinstance(exc, XRefused):
            until = now + MAX_BACKOFF
            log.error("X refused the %s poll (%s); retrying in 5 minutes", stream, exc)
        else:
            until = now + min(timedelta(seconds=2**failures), MAX_BACKOFF)
            log.warning("X unavailable for %s (%s); retrying after %s", stream, exc, until)
        self._blocked_until[stream] = until
