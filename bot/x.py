"""The X adapter: the only module that talks to X (through tweepy).

Everything X returns is mapped here into our own dataclasses, and every failure into one
of the `XError` kinds below, so that no other module knows tweepy's or X's formats.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

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


@dataclass(frozen=True)
class XUser:
    """A user on X as far as the bot cares."""

    id: str
    username: str
    name: str = ""
    followers: int = 0
    verified: bool = False


@dataclass(frozen=True)
class Tweet:
    """A customer's tweet, mapped from X's v2 format."""

    id: str
    text: str
    author: XUser
    created_at: datetime
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    replied_to_id: str | None = None
    quoted_id: str | None = None
    lang: str | None = None
    mentioned_user_ids: tuple[str, ...] = ()
    mentioned_usernames: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The tweet's public address."""
        return f"https://x.com/{self.author.username}/status/{self.id}"

    def mentions(self, user: XUser) -> bool:
        """True when the tweet @-mentions `user` (by id, or by handle when X gave no id)."""
        return user.id in self.mentioned_user_ids or user.username.lower() in (
            name.lower() for name in self.mentioned_usernames
        )


@dataclass(frozen=True)
class TweetBatch:
    """All tweets of one poll, oldest first, and the id to poll from next time."""

    tweets: list[Tweet] = field(default_factory=list)
    newest_id: str | None = None


@dataclass(frozen=True)
class DirectMessage:
    """A direct message between the brand account and someone."""

    id: str
    text: str
    sender: XUser
    created_at: datetime
    conversation_id: str | None = None


@dataclass(frozen=True)
class DirectMessageBatch:
    """New DMs of one poll, oldest first; `complete` is False when the budget ran out."""

    messages: list[DirectMessage] = field(default_factory=list)
    newest_id: str | None = None
    complete: bool = True
    requests: int = 0  # how many of X's scarce DM reads this took


@dataclass(frozen=True)
class OwnTweet:
    """One of the brand account's own tweets."""

    id: str
    text: str
    replied_to_id: str | None


class XError(Exception):
    """Something went wrong talking to X; `user_message` says it for people."""

    user_message = "X did not accept the request."


class XRateLimited(XError):
    """HTTP 429: wait until `reset_at` (from `x-rate-limit-reset`) before the next call."""

    user_message = "X's rate limit is reached; try again in a few minutes."

    def __init__(self, reset_at: datetime | None) -> None:
        super().__init__(f"rate limited until {reset_at}")
        self.reset_at = reset_at


class XUnavailable(XError):
    """5xx, timeout, refused connection or an unreadable answer: try again later.

    `maybe_processed` is False only when X certainly never saw the request (the
    connection was refused); after a timeout or a 5xx a post may exist all the same.
    """

    user_message = "X is not answering right now; try again in a moment."

    def __init__(self, message: str, *, maybe_processed: bool = True) -> None:
        super().__init__(message)
        self.maybe_processed = maybe_processed


class XRefused(XError):
    """X refused the request (4xx other than 429); repeating it would not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.user_message = f"X refused it: {detail}"


class XAuthFailed(XRefused):
    """401: the credentials are wrong or revoked."""


class RewritingAdapter(HTTPAdapter):
    """Sends tweepy's requests to X_API_URL instead of its hard-coded host, with a timeout.

    tweepy builds every URL on https://api.twitter.com and never sets a timeout, so both
    are fixed at the transport: the request keeps its path and query, only the scheme and
    host change, and a request without a timeout gets ours.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)
        self._base = urlsplit(base_url)
        self._timeout = timeout

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
        return super().send(request, **kwargs)


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _map_user(raw: Mapping[str, Any]) -> XUser:
    metrics = raw.get("public_metrics") or {}
    return XUser(
        id=str(raw["id"]),
        username=str(raw.get("username") or raw["id"]),
        name=str(raw.get("name") or ""),
        followers=int(metrics.get("followers_count") or 0),
        verified=bool(raw.get("verified")),
    )


def _map_tweet(raw: Mapping[str, Any], users: Mapping[str, XUser]) -> Tweet:
    author_id = str(raw["author_id"])
    referenced = {ref.get("type"): str(ref.get("id")) for ref in raw.get("referenced_tweets") or []}
    entities = raw.get("entities") or {}
    mentions = entities.get("mentions") or []
    return Tweet(
        id=str(raw["id"]),
        text=str(raw["text"]),
        author=users.get(author_id) or XUser(id=author_id, username=author_id),
        created_at=_parse_time(raw.get("created_at")),
        conversation_id=str(raw["conversation_id"]) if raw.get("conversation_id") else None,
        in_reply_to_user_id=(
            str(raw["in_reply_to_user_id"]) if raw.get("in_reply_to_user_id") else None
        ),
        replied_to_id=referenced.get("replied_to"),
        quoted_id=referenced.get("quoted"),
        lang=raw.get("lang"),
        mentioned_user_ids=tuple(str(m["id"]) for m in mentions if m.get("id")),
        mentioned_usernames=tuple(str(m["username"]) for m in mentions if m.get("username")),
        hashtags=tuple(str(h.get("tag", "")) for h in entities.get("hashtags") or []),
    )


def map_tweets(body: Mapping[str, Any]) -> list[Tweet]:
    """Map one page of X's `{data, includes}` to tweets; malformed entries are skipped."""
    users: dict[str, XUser] = {}
    for raw_user in (body.get("includes") or {}).get("users") or []:
        try:
            user = _map_user(raw_user)
        except (KeyError, TypeError, ValueError):
            log.warning("skipping a malformed user object from X")
            continue
        users[user.id] = user
    tweets = []
    for raw in body.get("data") or []:
        try:
            tweets.append(_map_tweet(raw, users))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("skipping a malformed tweet object from X (id=%s)", _safe_id(raw))
    return tweets


def map_direct_messages(body: Mapping[str, Any]) -> list[DirectMessage]:
    """Map a page of X's DM events (newest first, as X sends them); malformed ones skipped."""
    users: dict[str, XUser] = {}
    for raw_user in (body.get("includes") or {}).get("users") or []:
        try:
            user = _map_user(raw_user)
        except (KeyError, TypeError, ValueError):
            continue
        users[user.id] = user
    messages = []
    for raw in body.get("data") or []:
        try:
            if raw.get("event_type", "MessageCreate") != "MessageCreate":
                continue
            sender = str(raw["sender_id"])
            messages.append(
                DirectMessage(
                    id=str(raw["id"]),
                    text=str(raw.get("text") or ""),
                    sender=users.get(sender) or XUser(id=sender, username=sender),
                    created_at=_parse_time(raw.get("created_at")),
                    conversation_id=raw.get("dm_conversation_id"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("skipping a malformed DM event from X (id=%s)", _safe_id(raw))
    return messages


def _safe_id(raw: Any) -> str:
    return str(raw.get("id", "?"))[:32] if isinstance(raw, Mapping) else "?"


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
    ) -> None:
        self._client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        adapter = RewritingAdapter(base_url, timeout)
        self._client.session.mount("https://", adapter)
        self._client.session.mount("http://", adapter)

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
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
        if not isinstance(body, dict):
            raise XUnavailable("unexpected response shape")
        return body

    def me(self) -> XUser:
        """The brand account (`GET /2/users/me`, user context)."""
        body = self._call(self._client.get_me, user_fields=USER_FIELDS, user_auth=True)
        try:
            return _map_user(body["data"])
        except (KeyError, TypeError, ValueError):
            raise XUnavailable("malformed /2/users/me answer") from None

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
        try:
            return str(body["data"]["id"])
        except (KeyError, TypeError):
            raise XUnavailable("malformed POST /2/tweets answer") from None

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
            for raw in body.get("data") or []:
                referenced = {
                    r.get("type"): str(r.get("id")) for r in raw.get("referenced_tweets") or []
                }
                found.append(
                    OwnTweet(
                        id=str(raw["id"]),
                        text=str(raw.get("text", "")),
                        replied_to_id=referenced.get("replied_to"),
                    )
                )
            token = (body.get("meta") or {}).get("next_token")
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
        try:
            return str(body["data"]["dm_event_id"])
        except (KeyError, TypeError):
            raise XUnavailable("malformed DM answer") from None

    def dm_events(self, *, after_id: str | None, max_requests: int) -> DirectMessageBatch:
        """DMs newer than `after_id`, oldest first (`GET /2/dm_events`, newest first by X).

        X has no `since_id` for DMs, so pages are read until an already-seen id appears, at
        most `max_requests` of them (X allows 15 per 15 minutes); the batch says whether it
        reached the old ones.
        """
        found: dict[str, DirectMessage] = {}
        newest: str | None = None
        token: str | None = None
        requests = 0
        for _ in range(max(0, max_requests)):
            params: dict[str, Any] = {
                "dm_event_fields": DM_FIELDS,
                "event_types": "MessageCreate",
                "expansions": ["sender_id"],
                "user_fields": USER_FIELDS,
                "max_results": PAGE_SIZE,
                "user_auth": True,
            }
            if token:
                params["pagination_token"] = token
            body = self._call(self._client.get_direct_message_events, **params)
            page = map_direct_messages(body)
            if newest is None and page:
                newest = page[0].id
            reached_old = False
            for message in page:
                if after_id is not None and int(message.id) <= int(after_id):
                    reached_old = True
                    break
                found[message.id] = message
            token = (body.get("meta") or {}).get("next_token")
            requests += 1
            if reached_old or not token:
                ordered = sorted(found.values(), key=lambda m: int(m.id))
                return DirectMessageBatch(ordered, newest or after_id, True, requests)
        ordered = sorted(found.values(), key=lambda m: int(m.id))
        return DirectMessageBatch(ordered, newest or after_id, False, requests)

    def dms_with(self, participant_id: str) -> list[DirectMessage]:
        """The latest DMs with one user (to find a DM whose answer was lost)."""
        body = self._call(
            self._client.get_direct_message_events,
            participant_id=participant_id,
            dm_event_fields=DM_FIELDS,
            event_types="MessageCreate",
            expansions=["sender_id"],
            user_fields=USER_FIELDS,
            max_results=PAGE_SIZE,
            user_auth=True,
        )
        return map_direct_messages(body)

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
        newest_id: str | None = None
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            page_params = {**params, cursor_param: token} if token else params
            body = self._call(method, subject, **page_params)
            meta = body.get("meta") or {}
            if newest_id is None and meta.get("newest_id"):
                newest_id = str(meta["newest_id"])
            for tweet in map_tweets(body):
                tweets[tweet.id] = tweet
            token = meta.get("next_token")
            if not token:
                break
            if token in seen_tokens:
                raise XUnavailable("X repeated a pagination token")
            seen_tokens.add(token)
        ordered = sorted(tweets.values(), key=lambda tweet: int(tweet.id))
        if ordered and (newest_id is None or int(ordered[-1].id) > int(newest_id)):
            newest_id = ordered[-1].id
        return TweetBatch(tweets=ordered, newest_id=newest_id)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection could not even be opened, so X never saw the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _detail(exc: tweepy.HTTPException) -> str:
    messages: Sequence[str] = getattr(exc, "api_messages", []) or []
    return "; ".join(messages)[:300] or f"HTTP {exc.response.status_code}"
