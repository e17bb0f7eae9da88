"""The X adapter: the only module that talks to X (through tweepy).

Every failure of a call becomes one of the `XError` kinds and every answer is read by
`bot/x_models.py`, so that no other module knows tweepy's or X's formats.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.clock import Clock, system_clock
from bot.x_calls import Outcome, XCall, XListener, billed, outcome_of, read_window, route_of
from bot.x_models import (
    DirectMessage,
    DirectMessageBatch,
    OwnTweet,
    Tweet,
    TweetBatch,
    XAuthFailed,
    XCreditsUsedUp,
    XRateLimited,
    XRefused,
    XUnavailable,
    XUser,
    direct_message_page,
    dm_sent_id,
    map_direct_messages,
    own_tweet_page,
    posted_id,
    read_me,
    tweet_page,
)

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "lang",
    "author_id",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id"]
PAGE_SIZE = 100
EARLY_CALLS = 8
# Every read of DM events: messages only, with their senders, a full page.
DM_PARAMS: dict[str, Any] = {
    "dm_event_fields": DM_FIELDS,
    "event_types": "MessageCreate",
    "expansions": ["sender_id"],
    "user_fields": USER_FIELDS,
    "max_results": PAGE_SIZE,
    "user_auth": True,
}


class RewritingAdapter(HTTPAdapter):
    """Sends tweepy's requests to X_API_URL instead of its hard-coded host, with a timeout.

    tweepy builds every URL on https://api.twitter.com and never sets a timeout, so both
    are fixed at the transport: the request keeps its path and query, only the scheme and
    host change, and a request without a timeout gets ours. Every call is reported to
    the listeners (`bot/x_calls.py`): the pace, the budget and the metrics read it here,
    the one place that sees X's status and headers.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)
        self._base = urlsplit(base_url)
        self._timeout = timeout
        self.listeners: list[XListener] = []
        # The first calls (start-up's `GET /2/users/me`), for listeners that join later.
        self.early: list[XCall] = []

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if request.url and request.url.startswith(TWEEPY_HOST):
            parts = urlsplit(request.url)
            path = self._base.path.rstrip("/") + parts.path
            request.url = urlunsplit(
                (self._base.scheme, self._base.netloc, path, parts.query, parts.fragment)
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        route = route_of(request.method or "GET", urlsplit(request.url or "").path)
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException:
            self._report(XCall(route, Outcome.TIMEOUT, None, None, None, 0))
            raise
        if self.listeners or len(self.early) < EARLY_CALLS:
            sent = request.body.encode() if isinstance(request.body, str) else request.body
            kind, units = billed(route, response.status_code, sent, response.content)
            window = read_window(response.headers)
            status = response.status_code
            self._report(XCall(route, outcome_of(status), status, window, kind, units))
        return response

    def _report(self, call: XCall) -> None:
        if len(self.early) < EARLY_CALLS:
            self.early.append(call)
        for listener in self.listeners:
            try:
                listener(call)
            except Exception:  # a counter must never break a call to X
                log.exception("an X call listener failed")


class XClient:
    """The brand account's view of X: who we are, who mentions us, what we send."""

    def __init__(
        self,
        *,
        bearer_token: str,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        base_url: str = TWEEPY_HOST,
        timeout: float = 10.0,
        clock: Clock = system_clock,
    ) -> None:
        self._clock = clock
        self._client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self._adapter = RewritingAdapter(base_url, timeout)
        self._client.session.mount("https://", self._adapter)
        self._client.session.mount("http://", self._adapter)

    def listen(self, listener: XListener, *, replay: bool = False) -> None:
        """Have `listener` told of every call to X (`bot/x_calls.py`); `replay`: also of
        the first calls made before it listened (start-up's, which X bills too)."""
        if replay:
            for call in self._adapter.early:
                listener(call)
        self._adapter.listeners.append(listener)

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call one tweepy method and turn every failure into an XError."""
        try:
            body = method(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            reset = getattr(exc, "reset_time", None)
            raise XRateLimited(datetime.fromtimestamp(reset, UTC) if reset else None) from None
        except tweepy.Unauthorized as exc:
            raise XAuthFailed(401, _detail(exc)) from None
        except tweepy.TwitterServerError as exc:
            raise XUnavailable(f"HTTP {exc.response.status_code}") from None
        except tweepy.HTTPException as exc:
            if exc.response.status_code == 402:
                raise XCreditsUsedUp(402, _detail(exc)) from None
            raise XRefused(exc.response.status_code, _detail(exc)) from None
        except requests.ConnectionError as exc:
            # A refused or unreachable connection never reached X; a read timeout or a
            # dropped connection after sending may have.
            raise XUnavailable(type(exc).__name__, maybe_processed=not _never_sent(exc)) from None
        except requests.RequestException as exc:
            # Read timeouts and unreadable JSON (a RequestException too).
            raise XUnavailable(type(exc).__name__) from None
        except ValueError:
            raise XUnavailable("malformed JSON") from None
        return body

    def me(self) -> XUser:
        """The brand account (`GET /2/users/me`, user context)."""
        body = self._call(self._client.get_me, user_fields=USER_FIELDS, user_auth=True)
        return read_me(body)

    def mentions(
        self, user_id: str, *, since_id: str | None, start_time: datetime | None = None
    ) -> TweetBatch:
        """Every tweet mentioning `user_id` newer than `since_id` (all pages), oldest first."""
        return self._all_pages(
            self._client.get_users_mentions,
            user_id,
            since_id=since_id,
            start_time=start_time,
            cursor_param="pagination_token",
        )

    def search(
        self, query: str, *, since_id: str | None, start_time: datetime | None = None
    ) -> TweetBatch:
        """Every recent tweet matching `query` newer than `since_id` (all pages), oldest first."""
        return self._all_pages(
            self._client.search_recent_tweets,
            query,
            since_id=since_id,
            start_time=start_time,
            cursor_param="next_token",
        )

    def post_reply(self, text: str, *, in_reply_to: str) -> str:
        """Publish `text` as a reply to tweet `in_reply_to` (`POST /2/tweets`); its id."""
        body = self._call(
            self._client.create_tweet, text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True
        )
        return posted_id(body)

    def own_replies(self, user_id: str, *, since: datetime) -> list[OwnTweet]:
        """The brand's own recent tweets (`GET /2/users/:id/tweets`), to find a lost post."""
        found: list[OwnTweet] = []
        token: str | None = None
        for _ in range(5):  # 500 tweets back is far more than an unclear post can be
            params: dict[str, Any] = {
                "max_results": PAGE_SIZE,
                "start_time": since,
                "tweet_fields": ["referenced_tweets", "created_at"],
            }
            if token:
                params["pagination_token"] = token
            body = self._call(self._client.get_users_tweets, user_id, user_auth=True, **params)
            page = own_tweet_page(body)
            found += page.items
            token = page.next_token
            if not token:
                break
        return found

    def send_dm(self, participant_id: str, text: str) -> str:
        """Send a direct message to a user (`POST /2/dm_conversations/with/:id/messages`)."""
        body = self._call(
            self._client.create_direct_message,
            participant_id=participant_id,
            text=text,
            user_auth=True,
        )
        return dm_sent_id(body)

    def dm_events(self, *, after_id: str | None, max_requests: int) -> DirectMessageBatch:
        """DMs newer than `after_id`, oldest first (`GET /2/dm_events`, newest first by X).

        X has no `since_id` for DMs, so pages are read until an already-seen id appears, at
        most `max_requests` of them (X allows 15 per 15 minutes); the batch says whether it
        reached the old ones.
        """

        def new(entry_id: str) -> bool:
            return after_id is None or int(entry_id) > int(after_id)

        found: dict[str, DirectMessage] = {}
        unreadable: set[str] = set()
        token: str | None = None
        requests, complete = 0, False
        while requests < max_requests and not complete:
            paging = {"pagination_token": token} if token else {}
            body = self._call(self._client.get_direct_message_events, **DM_PARAMS, **paging)
            page = direct_message_page(body, clock=self._clock)
            requests += 1
            fresh = list(takewhile(lambda message: new(message.id), page.items))
            found.update((message.id, message) for message in fresh)
            unreadable.update(filter(new, page.unreadable))
            token = page.next_token
            complete = len(fresh) < len(page.items) or not token  # reached the old ones
        ordered = sorted(found.values(), key=lambda m: int(m.id))
        return DirectMessageBatch(
            messages=ordered,
            newest_id=ordered[-1].id if ordered else after_id,
            complete=complete,
            requests=requests,
            unreadable_ids=sorted(unreadable, key=int),
        )

    def dms_with(self, participant_id: str) -> list[DirectMessage]:
        """The latest DMs with one user (to find a DM whose answer was lost)."""
        body = self._call(
            self._client.get_direct_message_events, participant_id=participant_id, **DM_PARAMS
        )
        return map_direct_messages(body, clock=self._clock)

    def _all_pages(
        self,
        method: Any,
        subject: str,
        *,
        since_id: str | None,
        start_time: datetime | None,
        cursor_param: str,
    ) -> TweetBatch:
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        if since_id is not None:
            params["since_id"] = since_id
        elif start_time is not None:
            params["start_time"] = start_time
        tweets: dict[str, Tweet] = {}
        unreadable: set[str] = set()
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            page_params = {**params, cursor_param: token} if token else params
            body = self._call(method, subject, **page_params)
            page = tweet_page(body, clock=self._clock)
            tweets.update((tweet.id, tweet) for tweet in page.items)
            unreadable.update(page.unreadable)
            token = page.next_token
            if not token:
                break
            if token in seen_tokens:
                raise XUnavailable("X repeated a pagination token")
            seen_tokens.add(token)
        ordered = sorted(tweets.values(), key=lambda tweet: int(tweet.id))
        # The cursor comes from what was read, not from X's `meta.newest_id`: a page that
        # promises more than it holds must not move the cursor past tweets never seen.
        return TweetBatch(
            tweets=ordered,
            newest_id=ordered[-1].id if ordered else None,
            unreadable_ids=sorted(unreadable, key=int),
        )


@dataclass(frozen=True)
class XSide:
    """The brand's side of X: the client, and the account it speaks for (`me()` at start)."""

    client: XClient
    brand: XUser


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection could not even be opened, so X never saw the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _detail(exc: tweepy.HTTPException) -> str:
    messages: Sequence[str] = getattr(exc, "api_messages", []) or []
    return "; ".join(messages)[:300] or f"HTTP {exc.response.status_code}"
