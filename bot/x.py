"""The X adapter: the only module that talks to X (through tweepy).

Everything X returns is mapped here into our own dataclasses, and every failure into one
of the `XError` kinds below, so that no other module knows tweepy's or X's formats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import takewhile
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    OnErrorOmit,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticUseDefault
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.clock import Clock, system_clock
from bot.text import clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

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


# X's JSON is untrusted like any input, so pydantic reads it strictly: an id is a string of
# digits (or an integer), never a float or a bool; text is a string. A required field that
# cannot be read makes its entry unreadable, an optional one of the wrong JSON type counts
# as missing (`Lenient`), and a page of the wrong shape cannot be trusted at all.


def _default_if_invalid(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticUseDefault() from None


def _utc(value: Any) -> Any:
    # X writes `2024-11-20T10:00:00.000Z`; a number is no time here, though pydantic reads one.
    return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) else value


Lenient = Annotated[T, WrapValidator(_default_if_invalid)]
# pydantic's patterns end at the end of the text, so no "123\n" passes (re's `$` let it).
Id = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,25}$"),
    BeforeValidator(lambda value: str(value) if type(value) is int else value),  # not a bool
]
Handle = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,15}$")]  # what X allows
Text = Annotated[str, AfterValidator(clean_text)]  # PostgreSQL refuses NUL
Name = Annotated[Text, AfterValidator(lambda name: name[:200])]  # X allows 50; the column 200
Lang = Annotated[Text, AfterValidator(lambda lang: lang[:16])]  # the column's size
Count = Annotated[int, Field(ge=0)]
Followers = Annotated[int, Field(ge=0, lt=2**31)]  # X's largest have 10**8; the column is int4
Time = Annotated[datetime, BeforeValidator(_utc)]
Token = Annotated[str, Field(min_length=1)]


def _at(*path: str, default: Any = None) -> Any:
    # A field X nests (`meta.next_token`); a missing or wrong step on the way counts as missing.
    return Field(default, validation_alias=AliasPath(*path))


class _Model(BaseModel):
    model_config = ConfigDict(strict=True)


class _User(_Model):
    id: Id
    username: Lenient[Handle | None] = None
    name: Lenient[Name] = ""
    followers: Lenient[Followers] = _at("public_metrics", "followers_count", default=0)
    verified: Lenient[bool] = False

    def user(self) -> XUser:
        # A handle X would never allow is a broken or spoofed answer: the id is shown instead.
        return XUser(self.id, self.username or self.id, self.name, self.followers, self.verified)


class _OwnTweet(_Model):
    class Reference(_Model):
        type: Lenient[str | None] = None
        id: Lenient[Id | None] = None

    id: Id
    text: Lenient[Text] = ""
    referenced_tweets: Lenient[list[OnErrorOmit[Reference]]] = []

    def referenced(self, kind: str) -> str | None:
        """The id of the tweet this one refers to as `kind` (`replied_to`, `quoted`)."""
        return {ref.type: ref.id for ref in self.referenced_tweets}.get(kind)


class _Tweet(_OwnTweet):
    class Mention(_Model):
        id: Lenient[Id | None] = None
        username: Lenient[Handle | None] = None

    class Hashtag(_Model):
        tag: str

    text: Text
    author_id: Id
    created_at: Lenient[Time | None] = None
    conversation_id: Lenient[Id | None] = None
    in_reply_to_user_id: Lenient[Id | None] = None
    lang: Lenient[Lang | None] = None
    mentions: Lenient[list[OnErrorOmit[Mention]]] = _at("entities", "mentions", default=[])
    hashtags: Lenient[list[OnErrorOmit[Hashtag]]] = _at("entities", "hashtags", default=[])

    def tweet(self, users: Mapping[str, XUser], clock: Clock) -> Tweet:
        return Tweet(
            id=self.id,
            text=self.text,
            author=users.get(self.author_id) or XUser(id=self.author_id, username=self.author_id),
            created_at=self.created_at or clock(),
            conversation_id=self.conversation_id,
            in_reply_to_user_id=self.in_reply_to_user_id,
            replied_to_id=self.referenced("replied_to"),
            quoted_id=self.referenced("quoted"),
            lang=self.lang,
            mentioned_user_ids=tuple(m.id for m in self.mentions if m.id),
            mentioned_usernames=tuple(m.username for m in self.mentions if m.username),
            hashtags=tuple(hashtag.tag for hashtag in self.hashtags),
        )


class _DMEvent(_Model):
    id: Id
    sender_id: Id
    text: Text = ""  # a DM of only a picture may come without text; that is still a message
    created_at: Lenient[Time | None] = None
    dm_conversation_id: Lenient[str | None] = None

    def message(self, users: Mapping[str, XUser], clock: Clock) -> DirectMessage:
        return DirectMessage(
            id=self.id,
            text=self.text,
            sender=users.get(self.sender_id) or XUser(id=self.sender_id, username=self.sender_id),
            created_at=self.created_at or clock(),
            conversation_id=self.dm_conversation_id,
        )


class _Entry(_Model):
    """What an entry says of itself even when it cannot be read: its id and its kind."""

    id: Lenient[Id | None] = None
    event_type: Any = "MessageCreate"


class _Page(_Model):
    data: list[Any] | None = None
    users: Lenient[list[OnErrorOmit[_User]]] = _at("includes", "users", default=[])
    result_count: Lenient[Count] = _at("meta", "result_count", default=0)
    next_token: Lenient[Token | None] = _at("meta", "next_token")


class _OwnTweets(_Model):
    data: Lenient[list[OnErrorOmit[_OwnTweet]]] = []
    next_token: Lenient[Token | None] = _at("meta", "next_token")


class _Me(_Model):
    data: _User


class _Posted(_Model):
    id: Id = Field(validation_alias=AliasPath("data", "id"))


class _DMSent(_Model):
    id: Id = Field(validation_alias=AliasPath("data", "dm_event_id"))


def _read(model: type[M], body: Any, what: str) -> M:
    """`body` read as `model`; an answer of the wrong shape is X failing, not our input."""
    try:
        return model.model_validate(body)
    except ValidationError:
        raise XUnavailable(f"malformed {what}") from None


@dataclass(frozen=True)
class Page(Generic[T]):
    """What one page of X's answer held: what could be read, and what could not."""

    items: list[T]
    unreadable: list[str]  # ids of entries that could not be read (to be read again)
    next_token: str | None = None


def _page(
    body: Any,
    what: str,
    read: Callable[[Any, Mapping[str, XUser]], T],
    *,
    wanted: Callable[[_Entry], bool] = lambda entry: True,
) -> Page[T]:
    raw = _read(_Page, body, "page")
    if raw.data is None and raw.result_count > 0:
        raise XUnavailable("a page that announces results but holds none")
    users = {user.id: user.user() for user in raw.users}
    page: Page[T] = Page([], [], raw.next_token)
    for entry in raw.data or []:
        named = _Entry.model_validate(entry if isinstance(entry, dict) else {})
        if not wanted(named):
            continue
        try:
            page.items.append(read(entry, users))
        except ValidationError:
            log.warning("%s from X could not be read (id=%s)", what, named.id or "?")
            if named.id is not None:
                page.unreadable.append(named.id)
    return page


def tweet_page(body: Any, *, clock: Clock = system_clock) -> Page[Tweet]:
    """Map one page of X's `{data, includes}` to tweets, noting the ones it could not read."""
    return _page(body, "a tweet", lambda raw, users: _Tweet.model_validate(raw).tweet(users, clock))


def map_tweets(body: Any, *, clock: Clock = system_clock) -> list[Tweet]:
    """The readable tweets of one page (malformed entries are skipped)."""
    try:
        return tweet_page(body, clock=clock).items
    except XUnavailable:
        return []


def direct_message_page(body: Any, *, clock: Clock = system_clock) -> Page[DirectMessage]:
    """Map a page of X's DM events (newest first, as X sends them)."""
    return _page(
        body,
        "a DM event",
        lambda raw, users: _DMEvent.model_validate(raw).message(users, clock),
        wanted=lambda entry: entry.event_type == "MessageCreate",
    )


def map_direct_messages(body: Any, *, clock: Clock = system_clock) -> list[DirectMessage]:
    """The readable DMs of one page (malformed events are skipped)."""
    try:
        return direct_message_page(body, clock=clock).items
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
        adapter = RewritingAdapter(base_url, timeout)
        self._client.session.mount("https://", adapter)
        self._client.session.mount("http://", adapter)

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
        return _read(_Me, body, "/2/users/me answer").data.user()

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
        return _read(_Posted, body, "POST /2/tweets answer").id

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
            page = _read(_OwnTweets, body, "page of own tweets")
            found += (OwnTweet(t.id, t.text, t.referenced("replied_to")) for t in page.data)
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
        return _read(_DMSent, body, "DM answer").id

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


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection could not even be opened, so X never saw the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _detail(exc: tweepy.HTTPException) -> str:
    messages: Sequence[str] = getattr(exc, "api_messages", []) or []
    return "; ".join(messages)[:300] or f"HTTP {exc.response.status_code}"
