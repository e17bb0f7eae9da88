"""The Slack adapter: the worker that drains the posting queue, App Home tabs, names.

Services add rows to the `slackoutbox` table inside their own transaction
(`bot/outbox.py`); one worker thread per replica sends them, in id order per channel,
paced to Slack's one message per second per channel. The pace is a row per
channel in the database (`slackpace`), taken by a conditional UPDATE before each post,
so that all replicas together keep to it, and a 429's `Retry-After` holds them all.
A row is `pending` until it is claimed (`sending`, with a lease), then `sent` with the
message's `ts`. If the worker dies or a call ends without a clear answer, the row stays
`sending`; when its lease runs out it is reconciled first: the channel (or thread) is
searched for the message by its metadata, and only if it is not there is it sent again.
Nothing is posted twice and nothing is dropped.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.present import GROUP_EVENT_TYPE, POST_EVENT_TYPE, TICKET_EVENT_TYPE
from bot.slack_answers import PAUSE_ON_CONFIG_ERROR, SlackAnswer, meaning, retry_after
from store import claims, outbox
from store.db import session_scope
from store.models import OutboxKind
from store.outbox import QueuedRow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
# Slack's clock and ours may differ a little; search a bit before the row was queued.
RECONCILE_MARGIN = timedelta(minutes=5)
RECONCILE_PAGES = 10
CHANNELS_TTL = 1.0
# How many rows of a channel one transaction claims: as many as the pace lets out in a
# quarter second, at most BATCH_MAX. At Slack's pace (one a second) that is one: the DB's
# share is then negligible, and replicas keep taking turns row by row.
BATCH_SPAN = timedelta(seconds=0.25)
BATCH_MAX = 50


class SlackDirectory:
    """`bot.roster.Directory` backed by `users.info`."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def real_name(self, user_id: str) -> str | None:
        """The member's real name (or display name, or handle); None if Slack does not know them."""
        try:
            response = self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name")
        return str(name or user.get("name") or user_id)


class HomePublisher:
    """Keeps people's App Home tabs current: `views.publish`, a moment after changes.

    Changes are collected for `delay` seconds, so a burst of claims costs one publish per
    person, not one per change; `views.publish` is idempotent, so nothing needs a queue.
    """

    def __init__(
        self, *, client: WebClient, render: Callable[..., dict[str, Any]], delay: float = 2.0
    ) -> None:
        self._client = client
        self._render = render
        self._delay = delay
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def changed(self, people: set[str]) -> None:
        """These people's tickets changed: their Home tabs are due a refresh."""
        with self._lock:
            self._pending |= people
        self._wake.set()

    def publish(self, user_id: str, *, tickets_from: int = 0, followups_from: int = 0) -> None:
        """Render and publish one person's Home tab now (its lists from these places)."""
        view = self._render(user_id, tickets_from=tickets_from, followups_from=followups_from)
        self._client.views_publish(user_id=user_id, view=view)

    def flush(self) -> int:
        """Publish every pending Home tab; how many."""
        with self._lock:
            people, self._pending = self._pending, set()
        for person in sorted(people):
            try:
                self.publish(person)
            except (SlackApiError, URLError, OSError) as exc:
                log.warning("App Home of %s not refreshed: %s", person, type(exc).__name__)
        return len(people)

    def run(self, stop: threading.Event) -> None:
        """Publish pending Home tabs until `stop` is set."""
        while not stop.is_set():
            if self._wake.wait(timeout=1.0):
                self._wake.clear()
                stop.wait(self._delay)
                self.flush()


class SlackPoster:
    """The worker that drains the posting queue into Slack."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: WebClient,
        clock: Clock = system_clock,
        min_interval: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self._engine = engine
        self._client = client
        self._clock = clock
        self._min_interval = timedelta(seconds=min_interval)
        self._lease = timedelta(seconds=lease_seconds)
        per_span = BATCH_SPAN / self._min_interval if min_interval > 0 else BATCH_MAX
        self._batch = max(1, min(BATCH_MAX, int(per_span)))
        self._next_ok: dict[str, datetime] = {}
        self._served: dict[str, int] = {}
        self._dm_channels: dict[str, str] = {}
        self._turns = itertools.count(1)
        self._paused_until: datetime | None = None
        self._wake = threading.Event()
        self._next_due: datetime | None = None
        self._channels: list[str] = []
        self._channels_read_at: float | None = None
        self.last_success: datetime | None = None
        # Told (channel, Slack's error) when a channel refuses the bot's posts.
        self.refused_listeners: list[Callable[[str, str], None]] = []

    # -- running -------------------------------------------------------------------------

    def wake(self) -> None:
        """Tell the worker that rows were queued (saves it waiting for its next look)."""
        self._channels_read_at = None
        self._wake.set()

    def run(self, stop: threading.Event, *, idle_seconds: float = 0.5) -> None:
        """Send until `stop` is set; between batches, wait for work or for the next due time."""
        while not stop.is_set():
            try:
                worked = self._step(self._batch) > 0
            except Exception:
                log.exception("posting queue: unexpected failure; retrying shortly")
                worked = False
            if worked:
                continue
            wait = idle_seconds
            if self._next_due is not None:
                wait = max(0.0, min(wait, (self._next_due - self._clock()).total_seconds()))
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def drain(self, *, max_steps: int = 100_000) -> int:
        """Send everything that is due now (tests and tools); returns how many rows moved."""
        moved = 0
        for _ in range(max_steps):
            step = self._step(self._batch)
            if not step:
                break
            moved += step
        return moved

    def step(self) -> bool:
        """Send (or reconcile) at most one row; False when nothing is due right now."""
        return self._step(1) > 0

    def _step(self, batch: int) -> int:  # how many rows of one channel moved
        now = self._clock()
        self._next_due = None
        if self._paused_until is not None and self._paused_until > now:
            self._due(self._paused_until)
            return 0
        for channel in self._rotated(self._open_channels()):
            ready_at = self._next_ok.get(channel)
            if ready_at is not None and ready_at > now:
                self._due(ready_at)
                continue
            moved = self._try_channel(channel, now, batch)
            if moved:
                return moved
        self._channels_read_at = None  # nothing to do: look afresh next time
        return 0

    def _open_channels(self) -> list[str]:
        # While busy, the list of channels with queued rows is re-read once a second, not
        # for every row; rows of a new channel wait at most that long.
        fresh = time.monotonic()
        if self._channels_read_at is None or fresh - self._channels_read_at > CHANNELS_TTL:
            with session_scope(self._engine) as session:
                self._channels = outbox.open_channels(session=session)
            self._channels_read_at = fresh
        return self._channels

    def _rotated(self, channels: list[str]) -> list[str]:
        # Least recently served first, so one busy channel cannot starve the others.
        return sorted(channels, key=lambda channel: self._served.get(channel, 0))

    def _due(self, when: datetime) -> None:
        if self._next_due is None or when < self._next_due:
            self._next_due = when

    def _try_channel(self, channel: str, now: datetime, batch: int) -> int:
        """Claim the channel's rows that may go now (`claims.claim_heads`), then send them."""
        with session_scope(self._engine) as session:
            pace, lease = self._min_interval, self._lease
            claim = claims.claim_heads(
                session=session, channel=channel, now=now, limit=batch, interval=pace, lease=lease
            )
        if claim.busy_until is not None:
            self._next_ok[channel] = claim.busy_until
        if (due := claim.wait_until or claim.busy_until) is not None:
            self._due(due)
        if not claim.rows:
            return 0
        return self._send_claimed(claim.rows, claim.parents, stale=claim.stale)

    def _send_claimed(
        self, claimed: list[QueuedRow], parents: dict[int, QueuedRow], *, stale: bool
    ) -> int:
        """Send claimed rows in order at the pace; record them together at the end.

        A row that fails is handled alone and the rows after it are given back. Sent rows
        stay `sending` until recorded: after a crash they are found by their metadata.
        """
        sent: list[tuple[QueuedRow, str, datetime]] = []
        given_back: list[int] = []
        last_post: float | None = None
        try:
            for index, row in enumerate(claimed):
                if last_post is not None:  # Slack's pace between the rows of one batch
                    gap = self._min_interval.total_seconds() - (time.monotonic() - last_post)
                    if gap > 0:
                        time.sleep(gap)
                parent = parents.get(row.parent_id) if row.parent_id else None
                ts = self._process(row, parent, stale=stale)
                last_post = time.monotonic()
                if ts is None:  # dealt with as alone; the rest goes back in line
                    given_back = [later.id for later in claimed[index + 1 :]]
                    return len(sent) + 1
                sent.append((row, ts, self._clock()))
            return len(sent)
        finally:
            self._record(sent, given_back)

    def _record(self, sent: list[tuple[QueuedRow, str, datetime]], unsent: list[int]) -> None:
        # The turn counts from when Slack answered, not from when it was taken.
        until = sent[-1][2] + self._min_interval if sent else None
        if sent or unsent:
            with session_scope(self._engine) as session:
                claims.finish(session=session, sent=sent, given_back=unsent, until=until)
        if sent and until is not None:
            channel = sent[-1][0].channel
            self._next_ok[channel] = until
            self._served[channel] = next(self._turns)
            self.last_success = sent[-1][2]

    # -- one row -----------------------------------------------------------------------

    def _process(self, row: QueuedRow, parent: QueuedRow | None, *, stale: bool) -> str | None:
        """Send one claimed row; its `ts`, or None when it failed (and was dealt with)."""
        now = self._clock()
        parent_ts = parent.result_ts if parent is not None else None
        if parent is not None and parent_ts is None:
            if row.kind == OutboxKind.UPDATE:
                self._finish_failed(row, "the card it updates was never posted")
                return None
            log.warning("posting queue: row %s posted without thread (card failed)", row.id)
        try:
            ts = self._find_posted(row, parent_ts) if stale else None
            if ts is None:
                ts = self._send(row, parent_ts)
        except SlackApiError as exc:
            self._on_slack_error(row, exc, now)
            return None
        except URLError as exc:
            refused = isinstance(exc.reason, ConnectionRefusedError)
            self._on_unclear(row, f"connection: {exc.reason}", now, certainly_unsent=refused)
            return None
        except (OSError, ValueError) as exc:  # timeouts, resets, unreadable answers
            self._on_unclear(row, f"{type(exc).__name__}", now, certainly_unsent=False)
            return None
        return ts

    def _content(self, row: QueuedRow) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(row.payload)
        if "metadata" not in payload:
            event_payload: dict[str, Any] = {"outbox_id": row.id}
            if row.ticket_id is not None:
                event_payload["ticket_id"] = row.ticket_id
            payload["metadata"] = {"event_type": POST_EVENT_TYPE, "event_payload": event_payload}
        return payload

    def _channel_of(self, row: QueuedRow) -> str:
        """Where the row goes: for a DM, the conversation with that person."""
        if row.kind != OutboxKind.DM:
            return row.channel
        if row.channel not in self._dm_channels:
            response = self._client.conversations_open(users=row.channel)
            self._dm_channels[row.channel] = str(response["channel"]["id"])
        return self._dm_channels[row.channel]

    def _send(self, row: QueuedRow, parent_ts: str | None) -> str:
        content = self._content(row)
        if row.kind == OutboxKind.UPDATE:
            assert parent_ts is not None
            self._client.chat_update(channel=row.channel, ts=parent_ts, **content)
            return parent_ts
        if row.kind == OutboxKind.THREAD and parent_ts:
            content["thread_ts"] = parent_ts
        response = self._client.chat_postMessage(
            channel=self._channel_of(row), unfurl_links=False, unfurl_media=False, **content
        )
        return str(response["ts"])

    def _find_posted(self, row: QueuedRow, parent_ts: str | None) -> str | None:
        """Look in Slack for a row whose last attempt ended without a clear answer."""
        if row.kind == OutboxKind.UPDATE:
            return None  # an update is idempotent: simply send it again
        metadata = self._content(row)["metadata"]
        wanted_type = metadata["event_type"]
        if wanted_type == TICKET_EVENT_TYPE:
            wanted: tuple[str, Any] = ("ticket_id", row.ticket_id)
        elif wanted_type.startswith(GROUP_EVENT_TYPE):
            # A group's card (or a member list in its thread): its group and batch name it.
            payload = metadata["event_payload"]
            wanted = ("group", (payload.get("group_id"), payload.get("batch")))
        else:
            wanted = ("outbox_id", row.id)
        oldest = f"{(row.created_at - RECONCILE_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(RECONCILE_PAGES):
            params: dict[str, Any] = {
                "channel": self._channel_of(row),
                "oldest": oldest,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                params["cursor"] = cursor
            if row.kind == OutboxKind.THREAD and parent_ts:
                response = self._client.conversations_replies(ts=parent_ts, **params)
            else:
                response = self._client.conversations_history(**params)
            for message in response.get("messages") or []:
                found = message.get("metadata") or {}
                found_payload = found.get("event_payload") or {}
                value = (
                    (found_payload.get("group_id"), found_payload.get("batch"))
                    if wanted[0] == "group"
                    else found_payload.get(wanted[0])
                )
                if found.get("event_type") == wanted_type and value == wanted[1]:
                    log.info("posting queue: row %s was already posted; not sending again", row.id)
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    # -- failures ----------------------------------------------------------------------

    def _on_slack_error(self, row: QueuedRow, exc: SlackApiError, now: datetime) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or "")
        payload = json.loads(row.payload)
        match meaning(status, error, has_blocks="blocks" in payload):
            case SlackAnswer.UNREADABLE:
                # Not one of Slack's error codes (slack_sdk's words for a proxy's error page,
                # say): nothing says the message was not posted.
                problem = f"unreadable answer (HTTP {status})"
                self._on_unclear(row, problem, now, certainly_unsent=False)
            case SlackAnswer.RATE_LIMITED:
                wait = retry_after(exc.response.headers)
                until = now + timedelta(seconds=wait)
                log.info("posting queue: Slack rate limit, channel %s waits %ss", row.channel, wait)
                self._next_ok[row.channel] = until
                self._release(row, until, error, pace=True)
            case SlackAnswer.AUTH_REFUSED:
                self._paused_until = now + PAUSE_ON_CONFIG_ERROR
                log.error(
                    "posting queue: Slack refuses the bot token (%s); posting paused, nothing "
                    "is lost. Check SLACK_BOT_TOKEN and the app's scopes.",
                    error,
                )
                self._release(row, now + PAUSE_ON_CONFIG_ERROR, error)
            case SlackAnswer.CHANNEL_REFUSED:
                self._next_ok[row.channel] = now + PAUSE_ON_CONFIG_ERROR
                log.error(
                    "posting queue: cannot post in channel %s (%s); it waits, nothing is lost. "
                    "Invite the bot to the channel or check the channel id.",
                    row.channel,
                    error,
                )
                self._release(row, now + PAUSE_ON_CONFIG_ERROR, error)
                if row.kind != OutboxKind.DM:  # a person's DM is no channel to invite to
                    self._tell_refused(row.channel, error)
            case SlackAnswer.BLOCKS_REFUSED:
                log.error("posting queue: Slack rejected row %s's blocks; sending as text", row.id)
                del payload["blocks"]
                with session_scope(self._engine) as session:
                    outbox.replace_payload(session=session, row_id=row.id, payload=payload)
                self._release(row, now, error)
            case SlackAnswer.UNCLEAR:
                self._on_unclear(row, error, now, certainly_unsent=False)
            case SlackAnswer.REFUSED:
                log.error("posting queue: Slack refused row %s for good (%s)", row.id, error)
                self._finish_failed(row, error)

    def _tell_refused(self, channel: str, error: str) -> None:
        for listener in self.refused_listeners:
            try:
                listener(channel, error)
            except Exception:  # the row is back in line either way; telling is a courtesy
                log.exception("posting queue: could not tell that channel %s refuses", channel)

    def _on_unclear(
        self, row: QueuedRow, error: str, now: datetime, *, certainly_unsent: bool
    ) -> None:
        delay = timedelta(seconds=min(2 ** min(row.attempts + 1, 16), MAX_BACKOFF_SECONDS))
        log.warning(
            "posting queue: row %s failed (%s); retrying in %ss", row.id, error, delay.seconds
        )
        if certainly_unsent:
            self._release(row, now + delay, error)
            return
        # The message may be in Slack already: keep the row `sending` until the lease runs
        # out, then reconcile by metadata before anything is sent again.
        with session_scope(self._engine) as session:
            outbox.extend_lease(
                session=session, row_id=row.id, lease_until=now + delay, error=error
            )

    def _release(
        self, row: QueuedRow, not_before: datetime, error: str, *, pace: bool = False
    ) -> None:
        """Put the row back; with `pace`, no replica posts into its channel before then."""
        with session_scope(self._engine) as session:
            outbox.release(session=session, row_id=row.id, not_before=not_before, error=error)
            if pace:
                outbox.hold_turn(session=session, channel=row.channel, until=not_before)

    def _finish_failed(self, row: QueuedRow, error: str) -> None:
        with session_scope(self._engine) as session:
            outbox.mark_failed(session=session, row_id=row.id, error=error)


class CountingWebClient(WebClient):
    """slack_sdk's client, telling `listener` how every Web API call ended."""

    def __init__(self, *args: Any, listener: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listener = listener

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            outcome = "429" if status == 429 else "5xx" if status >= 500 else "error"
            self._listener(api_method, outcome)
            raise
        except OSError:  # timeouts, refused connections (URLError is one)
            self._listener(api_method, "timeout")
            raise
        self._listener(api_method, "ok")
        return response
