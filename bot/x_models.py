"""X's data as the bot sees it: users, tweets and DMs, the ways X fails, and reading X's JSON.

Pure (pydantic, no tweepy): everything X returns is read here into our own dataclasses,
and an answer of the wrong shape becomes one of the `XError` kinds, so that no other
module knows X's formats. `bot/x.py` makes the calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

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

from bot.clock import Clock, system_clock
from bot.text import clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


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


# How X words the refusals the bot explains (403 problem details).
DUPLICATE = "duplicate content"
NOT_SUMMONED = "not been mentioned"


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


class XCreditsUsedUp(XRefused):
    """402: the account's X credits are used up; nothing goes through until they are topped up."""


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


def read_me(body: Any) -> XUser:
    """The user of `GET /2/users/me`."""
    return _read(_Me, body, "/2/users/me answer").data.user()


def posted_id(body: Any) -> str:
    """The id of the post `POST /2/tweets` made."""
    return _read(_Posted, body, "POST /2/tweets answer").id


def dm_sent_id(body: Any) -> str:
    """The id of the DM event a sent DM became."""
    return _read(_DMSent, body, "DM answer").id


def own_tweet_page(body: Any) -> Page[OwnTweet]:
    """A page of the brand's own tweets (`GET /2/users/:id/tweets`)."""
    page = _read(_OwnTweets, body, "page of own tweets")
    own = [OwnTweet(t.id, t.text, t.referenced("replied_to")) for t in page.data]
    return Page(own, [], page.next_token)


def explain_refusal(exc: XError, *, dm: bool = False) -> str:
    """X's refusal in words an agent can act on."""
    if dm and isinstance(exc, XRefused) and exc.status == 403:
        return (
            "X refused the DM: the customer does not accept DMs from us (they need to follow "
            "us or open their DMs). Ask them publicly to open their DMs."
        )
    if isinstance(exc, XRefused):
        if DUPLICATE in exc.detail:
            return "X refuses duplicates: this exact text was posted before. Change a few words."
        if NOT_SUMMONED in exc.detail:
            return (
                "X refused a public reply because the customer did not mention or quote us. "
                "Answer with `/dm`, or by hand on X."
            )
        return f"X refused it ({exc.status}): {exc.detail}"
    return exc.user_message
