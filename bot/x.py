"""The X adapter: the only module that talks to X (through tweepy).

Everything X returns is mapped here into our own dataclasses, and every failure into one
of the `XError` kinds below, so that no other module knows tweepy's or X's formats.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.text import clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")

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
# Every read of DM events: messages only, with their senders, a full page.
DM_PARAMS: dict[str, Any] = {
    "dm_event_fields": DM_FIELDS,
    "event_types": "MessageCreate",
    "expansions": ["sender_id"],
    "user_fields": USER_FIELDS,
    "max_results": PAGE_SIZE,
    "user_auth": True,
}


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
    unreadable_ids: list[str] = field(default_factory=list)  # entries X sent that made no sense


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
    unreadable_ids: list[str] = field(default_factory=list)


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


# X's data is untrusted like any input: an id is a string of digits, a handle has X's
# shape, text has no control characters (PostgreSQL refuses NUL), and a field of the wrong
# JSON type counts as missing instead of failing the whole page.
_ID = re.compile(r"^[0-9]{1,25}$")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        value = str(value)
    return value if isinstance(value, str) and _ID.match(value) else None


def _text(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _map_user(raw: Any) -> XUser | None:
    raw = _dict(raw)
    user_id = _id(raw.get("id"))
    if user_id is None:
        return None
    username = raw.get("username")
    return XUser(
        id=user_id,
        username=username if isinstance(username, str) and _HANDLE.match(username) else user_id,
        name=_text(raw.get("name")) or "",
        followers=_count(_dict(raw.get("public_metrics")).get("followers_count")),
        verified=raw.get("verified") is True,
    )


def _users(body: Mapping[str, Any]) -> dict[str, XUser]:
    users = {}
    for raw in _list(_dict(body.get("includes")).get("users")):
        user = _map_user(raw)
        if user is not None:
            users[user.id] = user
    return users


def _referenced(raw: Mapping[str, Any]) -> dict[Any, str | None]:
    """The tweets a tweet refers to, by kind (`replied_to`, `quoted`)."""
    return {
        _dict(ref).get("type"): _id(_dict(ref).get("id"))
        for ref in _list(raw.get("referenced_tweets"))
    }


def _map_tweet(raw: Mapping[str, Any], users: Mapping[str, XUser]) -> Tweet | None:
    tweet_id, author_id, text = (
        _id(raw.get("id")),
        _id(raw.get("author_id")),
        _text(raw.get("text")),
    )
    if tweet_id is None or author_id is None or text is None:
        return None
    referenced = _referenced(raw)
    entities = _dict(raw.get("entities"))
    mentions = [_dict(m) for m in _list(entities.get("mentions"))]
    lang = raw.get("lang")
    return Tweet(
        id=tweet_id,
        text=text,
        author=users.get(author_id) or XUser(id=author_id, username=author_id),
        created_at=_parse_time(raw.get("created_at")),
        conversation_id=_id(raw.get("conversation_id")),
        in_reply_to_user_id=_id(raw.get("in_reply_to_user_id")),
        replied_to_id=referenced.get("replied_to"),
        quoted_id=referenced.get("quoted"),
        lang=lang[:16] if isinstance(lang, str) else None,
        mentioned_user_ids=tuple(i for m in mentions if (i := _id(m.get("id")))),
        mentioned_usernames=tuple(
            u for m in mentions if isinstance(u := m.get("username"), str) and _HANDLE.match(u)
        ),
        hashtags=tuple(
            t for h in _list(entities.get("hashtags")) if isinstance(t := _dict(h).get("tag"), str)
        ),
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """What one page of X's answer held: what could be read, and what could not."""

    items: list[T]
    unreadable: list[str]  # ids of entries that could not be read (to be read again)


def _data(body: Any) -> list[Any]:
    """The page's `data` list; a page whose shape is wrong cannot be trusted at all."""
    if not isinstance(body, Mapping):
        raise XUnavailable("unexpected response shape")
    data = body.get("data")
    if data is None:
        if _count(_dict(body.get("meta")).get("result_count")) > 0:
            raise XUnavailable("a page that announces results but holds none")
        return []
    if not isinstance(data, list):
        raise XUnavailable("a page whose data is not a list")
    return data


def _page(
    body: Any,
    what: str,
    read: Callable[[Mapping[str, Any], Mapping[str, XUser]], T | None],
    *,
    wanted: Callable[[Mapping[str, Any]], bool] = lambda entry: True,
) -> Page[T]:
    entries = _data(body)
    users = _users(body)
    page: Page[T] = Page([], [])
    for raw in entries:
        entry = _dict(raw)
        if not wanted(entry):
            continue
        item = read(entry, users)
        if item is not None:
            page.items.append(item)
            continue
        entry_id = _id(entry.get("id"))
        log.warning("%s from X could not be read (id=%s)", what, entry_id or "?")
        if entry_id is not None:
            page.unreadable.append(entry_id)
    return page


def tweet_page(body: Any) -> Page[Tweet]:
    """Map one page of X's `{data, includes}` to tweets, noting the ones it could not read."""
    return _page(body, "a tweet", _map_tweet)


def map_tweets(body: Any) -> list[Tweet]:
    """The readable tweets of one page (malformed entries are skipped)."""
    try:
        return tweet_page(body).items
    except XUnavailable:
        return []


def _map_direct_message(raw: Mapping[str, Any], users: Mapping[str, XUser]) -> DirectMessage | None:
    # A DM of only a picture may come without text; that is still a message.
    text = _text(raw.get("text", ""))
    event_id, sender = _id(raw.get("id")), _id(raw.get("sender_id"))
    if event_id is None or sender is None or text is None:
        return None
    conversation = raw.get("dm_conversation_id")
    return DirectMessage(
        id=event_id,
        text=text,
        sender=users.get(sender) or XUser(id=sender, username=sender),
        created_at=_parse_time(raw.get("created_at")),
        conversation_id=conversation if isinstance(conversation, str) else None,
    )


def direct_message_page(body: Any) -> Page[DirectMessage]:
    """Map a page of X's DM events (newest first, as X sends them)."""
    return _page(
        body,
        "a DM event",
        _map_direct_message,
        wanted=lambda event: event.get("event_type", "MessageCreate") == "MessageCreate",
    )


def map_direct_messages(body: Any) -> list[DirectMessage]:
    """The readable DMs of one page (malformed events are skipped)."""
    try:
        return direct_message_page(body).items
    except XUnavailable:
        return []


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
        user = _map_user(body.get("data"))
        if user is None:
            raise XUnavailable("malformed /2/users/me answer")
        return user

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
            for raw in _list(body.get("data")):
                raw = _dict(raw)
                if (tweet_id := _id(raw.get("id"))) is None:
                    continue
                referenced = _referenced(raw)
                found.append(
                    OwnTweet(
                        id=tweet_id,
                        text=_text(raw.get("text")) or "",
                        replied_to_id=referenced.get("replied_to"),
                    )
                )
            token = _next_token(body)
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
        unreadable: set[str] = set()
        token: str | None = None
        requests = 0
        for _ in range(max(0, max_requests)):
            paging = {"pagination_token": token} if token else {}
            body = self._call(self._client.get_direct_message_events, **DM_PARAMS, **paging)
            page = direct_message_page(body)
            requests += 1
            reached_old = False
            for message in page.items:
                if after_id is not None and int(message.id) <= int(after_id):
                    reached_old = True
                    break
                found[message.id] = message
            unreadable.update(
                i for i in page.unreadable if after_id is None or int(i) > int(after_id)
            )
            token = _next_token(body)
            if reached_old or not token:
                return self._dm_batch(found, unreadable, after_id, requests, complete=True)
        return self._dm_batch(found, unreadable, after_id, requests, complete=False)

    @staticmethod
    def _dm_batch(
        found: Mapping[str, DirectMessage],
        unreadable: set[str],
        after_id: str | None,
        requests: int,
        *,
        complete: bool,
    ) -> DirectMessageBatch:
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
        unreadable: set[str] = set()
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            page_params = {**params, cursor_param: token} if token else params
            body = self._call(method, subject, **page_params)
            page = tweet_page(body)
            tweets.update((tweet.id, tweet) for tweet in page.items)
            unreadable.update(page.unreadable)
            token = _next_token(body)
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


def _next_token(body: Mapping[str, Any]) -> str | None:
    token = _dict(body.get("meta")).get("next_token")
    return token if isinstance(token, str) and token else None


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection could not even be opened, so X never saw the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _detail(exc: tweepy.HTTPException) -> str:
    messages: Sequence[str] = getattr(exc, "api_messages", []) or []
    return "; ".join(messages)[:300] or f"HTTP {exc.response.status_code}"
