"""Fuzzing what people type and what X sends (issue 7, bad input).

The command parsers only ever say no with `Refused` (and a usage line); the parser of the
SERVICE_HOURS setting only ever says no with `ValueError` (start-up turns it into one
configuration line); the mappers of X's payloads and the escapers never raise at all.
Each property also checks that what comes back keeps its promise.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.commands import Usage, slack_user, ticket_number, words, x_handle
from bot.errors import Refused
from bot.followups import detect_promise, parse_when
from bot.hours import DAY_NAMES, parse_service_hours
from bot.text import escape_slack, escaped_pieces
from bot.x_models import DirectMessage, Tweet, XUser, map_direct_messages, map_tweets
from handlers.blocks.text import SECTION_LIMIT, escape_within, quote

USAGE = Usage("/claim", "<ticket>")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Pieces that people (and copy-paste) put into Slack: what the parsers must not trip over.
PIECES = [
    "#",
    "-",
    "0",
    "1",
    "12",
    "99999999999999999999",
    "@",
    "@anna_k",
    "<@U0BEN|ben>",
    "<@W0ENT>",
    "<!channel>",
    "<http://evil.example|telekom.de>",
    "&amp;",
    ":",
    "14:30",
    "45m",
    "2h",
    "morgen",
    "tomorrow",
    "10 Uhr",
    "in 2 Stunden",
    "Freitag",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # zero-width no-break space
    "\u202e",  # right-to-left override
    "\u0301",  # combining acute accent
    "👩\u200d👩\u200d👧",  # an emoji ZWJ sequence
    "١٢",  # Arabic-Indic digits
    "²",  # a superscript digit: str.isdigit() says yes
    "\x00",
    "\x07",
    "\x1b[31m",
    " ",
    "\t",
    "\n",
    "\u3000",  # ideographic space
]
typed = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=12).map("".join)
any_text = st.text() | typed

zones = st.sampled_from(
    [ZoneInfo(name) for name in ("Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata")]
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


T = TypeVar("T")
E = TypeVar("E", bound=Exception)


def attempt(parse: Callable[[], T], refusal: type[E]) -> T | E:
    """What a parser gives back, or how it said no; any other exception fails the test."""
    try:
        return parse()
    except refusal as said_no:
        return said_no


# -- what people type after a slash command ----------------------------------------------


@given(any_text)
def test_a_ticket_number_is_a_small_non_negative_int_or_a_usage_line(text: str) -> None:
    number = attempt(lambda: ticket_number(text, USAGE), Refused)
    if isinstance(number, Refused):
        assert "Usage: `/claim <ticket>`" in number.user_message
        return
    assert 0 <= number <= 999_999_999
    assert text.strip().lstrip("#").lstrip("0") == str(number).lstrip("0")


@given(st.integers(min_value=0, max_value=999_999_999), st.sampled_from(["", "#"]))
def test_every_ticket_number_is_read_back_as_written(number: int, prefix: str) -> None:
    assert ticket_number(f" {prefix}{number} ", USAGE) == number


@given(any_text)
def test_a_slack_user_is_an_id_from_a_mention_or_a_usage_line(text: str) -> None:
    user_id = attempt(lambda: slack_user(text, USAGE), Refused)
    if isinstance(user_id, Refused):
        assert "Usage: `/claim <ticket>`" in user_id.user_message
        return
    assert re.fullmatch(r"[UW][A-Z0-9]+", user_id)
    assert text.strip().startswith(f"<@{user_id}")


@given(st.from_regex(r"[UW][A-Z0-9]{1,12}", fullmatch=True), st.text(max_size=20))
def test_every_mention_slack_escapes_is_read_as_its_user(user_id: str, label: str) -> None:
    label = label.replace(">", "")
    assert slack_user(f"<@{user_id}|{label}>", USAGE) == user_id
    assert slack_user(f"<@{user_id}>", USAGE) == user_id


@given(any_text)
def test_an_x_handle_is_what_x_allows_or_none(text: str) -> None:
    handle = x_handle(text)
    assert handle is None or re.fullmatch(r"[A-Za-z0-9_]{1,15}", handle)


@given(any_text, st.integers(min_value=1, max_value=6))
def test_words_split_off_leading_words_and_keep_the_rest(text: str, count: int) -> None:
    parts = words(text, count)
    assert len(parts) == count and all(isinstance(part, str) for part in parts)
    leading = [part for part in parts[:-1] if part]
    assert leading == text.split()[: len(leading)]
    assert all(not re.search(r"\s", part) for part in parts[:-1])
    assert " ".join(parts).split() == text.split()


# -- times people promise ----------------------------------------------------------------


def assert_a_time_ahead(
    result: tuple[datetime, str], text: str, now: datetime, zone: ZoneInfo
) -> None:
    """A due time in the next 60 days, aware, and the rest of the text as the note."""
    due, note = result
    assert isinstance(due, datetime) and due.tzinfo is not None
    assert now < due <= now + timedelta(days=60)
    assert isinstance(note, str)
    assert note.split() == text.split()[len(text.split()) - len(note.split()) :]


when_phrases = st.one_of(
    st.tuples(
        st.integers(min_value=-5, max_value=99999),
        st.sampled_from(["m", "min", "h", "std", "stunden", "d", "tage", "days", "x", ""]),
    ).map(lambda pair: f"{pair[0]}{pair[1]}"),
    st.tuples(st.integers(0, 30), st.integers(0, 70)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map(" ".join),
)


@settings(deadline=None, max_examples=150)
@given(when_phrases | any_text, instants, zones)
def test_a_promised_time_is_ahead_within_60_days_or_refused(
    text: str, now: datetime, zone: ZoneInfo
) -> None:
    result = attempt(lambda: parse_when(text, now=now, zone=zone), Refused)
    if isinstance(result, Refused):
        assert result.user_message  # it says what is wrong
        return
    assert_a_time_ahead(result, text, now, zone)


@settings(deadline=None, max_examples=60)
@given(when_phrases, st.text(max_size=30), instants, zones)
def test_a_note_after_the_time_is_kept(when: str, note: str, now: datetime, zone: ZoneInfo) -> None:
    text = f"{when} {note}"
    result = attempt(lambda: parse_when(text, now=now, zone=zone), Refused)
    if not isinstance(result, Refused):
        assert_a_time_ahead(result, text, now, zone)


@given(any_text, instants, zones)
def test_a_promise_found_in_a_reply_is_a_phrase_of_it_and_soon(
    text: str, now: datetime, zone: ZoneInfo
) -> None:
    promise = detect_promise(text, now=now, zone=zone)
    if promise is None:
        return
    assert promise.phrase and promise.phrase in text
    assert promise.due.tzinfo is not None
    assert now <= promise.due <= now + timedelta(hours=99)  # "within 99 hours" is the most


# -- the SERVICE_HOURS setting -------------------------------------------------------------


def assert_weekly_hours_are_well_formed(text: str) -> None:
    hours = attempt(lambda: parse_service_hours(text), ValueError)
    if isinstance(hours, ValueError):
        assert str(hours)  # start-up prints it as the setting's problem
        return
    assert len(hours.intervals) == 7
    assert any(hours.intervals)
    for day in hours.intervals:
        for start, end in day:
            assert 0 <= start < end <= 24 * 60
        assert all(a[1] < b[0] for a, b in itertools.pairwise(day))


@given(any_text)
def test_service_hours_parse_or_say_what_is_wrong(text: str) -> None:
    assert_weekly_hours_are_well_formed(text)


ranges = st.tuples(
    st.sampled_from(DAY_NAMES),
    st.sampled_from(DAY_NAMES),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 25),
    st.integers(0, 61),
).map(lambda r: f"{r[0]}-{r[1]} {r[2]:02d}:{r[3]:02d}-{r[4]:02d}:{r[5]:02d}")


@given(st.lists(ranges, min_size=1, max_size=4).map("; ".join))
def test_service_hours_near_the_right_form_parse_or_say_what_is_wrong(text: str) -> None:
    assert_weekly_hours_are_well_formed(text)


# -- customer text on its way into Slack ---------------------------------------------------


def unescape(text: str) -> str:
    """Slack's reading of escaped text, with the ⟨U+202E⟩ marks of invisible characters undone."""
    marks = re.sub(r"⟨U\+([0-9A-F]{4,6})⟩", lambda found: chr(int(found[1], 16)), text)
    return marks.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(any_text)
def test_escaped_text_has_no_angle_brackets_no_controls_and_loses_nothing_else(
    text: str,
) -> None:
    escaped = escape_slack(text)
    assert "<" not in escaped and ">" not in escaped
    assert not CONTROL.search(escaped)
    # Invisible characters are shown as marks; only emoji joiners and flag tags stay.
    assert all(
        char == "\u200d" or 0xE0020 <= ord(char) <= 0xE007F
        for char in escaped
        if unicodedata.category(char) in ("Cf", "Zl", "Zp")
    )
    assert re.sub(r"&(amp|lt|gt);", "", escaped).count("&") == 0
    assert unescape(escaped) == CONTROL.sub("", text)


@given(any_text)
def test_text_escaped_whole_reads_as_its_escaped_pieces_joined(text: str) -> None:
    assert escape_slack(text) == "".join(escaped_pieces(text))


@given(any_text, st.integers(min_value=1, max_value=SECTION_LIMIT))
def test_text_escaped_within_a_limit_is_a_whole_escaped_prefix(text: str, limit: int) -> None:
    escaped = escape_within(text, limit)
    assert len(escaped) <= limit
    assert "<" not in escaped and ">" not in escaped
    body = escaped.removesuffix("…") if escaped != escape_slack(text) else escaped
    assert re.sub(r"&(amp|lt|gt);", "", body).count("&") == 0
    assert CONTROL.sub("", text).startswith(unescape(body))


@given(any_text | st.text(alphabet="a\n", min_size=2000, max_size=4000))
@example("Zeile\n" * 500)
def test_a_quote_of_customer_text_fits_in_a_section(text: str) -> None:
    quoted = quote(text)
    assert len(quoted) <= SECTION_LIMIT
    assert "<" not in quoted and ">" not in quoted.replace("\n>", "\n").removeprefix(">")


# -- what X sends --------------------------------------------------------------------------

snowflakes = st.integers(min_value=1, max_value=2**63 - 1).map(str)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
any_json = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field X may leave out."""
    return st.none() | strategy


raw_users = st.fixed_dictionaries(
    {"id": snowflakes},
    optional={
        "username": st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True),
        "name": st.text(max_size=20),
        "verified": st.booleans(),
        "public_metrics": st.fixed_dictionaries(
            {}, optional={"followers_count": st.integers(0, 10**9)}
        ),
    },
)
raw_tweets = st.fixed_dictionaries(
    {},
    optional={
        "id": snowflakes,
        "text": st.text(max_size=40),
        "author_id": snowflakes,
        "created_at": st.sampled_from(["2024-11-20T10:00:00.000Z", "yesterday", ""]),
        "conversation_id": snowflakes,
        "in_reply_to_user_id": snowflakes,
        "lang": st.sampled_from(["de", "en", "und"]),
        "referenced_tweets": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["replied_to", "quoted", "retweeted"]), "id": snowflakes}
            ),
            max_size=2,
        ),
        "entities": st.fixed_dictionaries(
            {},
            optional={
                "mentions": st.lists(
                    st.fixed_dictionaries({}, optional={"id": snowflakes, "username": st.text()}),
                    max_size=2,
                ),
                "hashtags": st.lists(st.fixed_dictionaries({"tag": st.text(max_size=10)})),
            },
        ),
    },
)
x_pages = st.fixed_dictionaries(
    {},
    optional={
        "data": st.lists(raw_tweets, max_size=5),
        "includes": st.fixed_dictionaries({}, optional={"users": st.lists(raw_users)}),
        "meta": st.fixed_dictionaries({}, optional={"result_count": st.integers(0, 100)}),
    },
)


def assert_a_well_formed_tweet(tweet: Tweet) -> None:
    assert isinstance(tweet, Tweet)
    assert tweet.id and tweet.id.isdigit()
    assert isinstance(tweet.text, str)
    assert isinstance(tweet.author, XUser) and tweet.author.id and tweet.author.username
    assert tweet.created_at.tzinfo is not None
    assert tweet.lang is None or isinstance(tweet.lang, str)
    assert all(isinstance(tag, str) for tag in tweet.hashtags)


@given(x_pages)
def test_a_page_in_xs_shape_gives_exactly_its_complete_tweets(page: dict[str, Any]) -> None:
    tweets = map_tweets(page)
    complete = [
        raw["id"] for raw in page.get("data", []) if {"id", "text", "author_id"} <= raw.keys()
    ]
    assert [tweet.id for tweet in tweets] == complete
    for tweet in tweets:
        assert_a_well_formed_tweet(tweet)


def tweets_with_fields_of_any_type() -> st.SearchStrategy[dict[str, Any]]:
    """X's tweet keys, each holding any JSON value."""
    keys = ["id", "text", "author_id", "created_at", "lang", "referenced_tweets", "entities"]
    return st.fixed_dictionaries({}, optional=dict.fromkeys(keys, any_json))


@given(st.fixed_dictionaries({"data": st.lists(tweets_with_fields_of_any_type(), max_size=4)}))
@example({"data": [{"id": "", "text": "hallo", "author_id": "2000000001"}]})
def test_tweets_mapped_from_fields_of_any_type_keep_their_promise(page: dict[str, Any]) -> None:
    for tweet in map_tweets(page):
        assert_a_well_formed_tweet(tweet)


@given(st.dictionaries(st.sampled_from(["data", "includes", "meta"]), any_json))
@example({"data": 5})
def test_mapping_any_json_page_never_raises(page: dict[str, Any]) -> None:
    assert all(isinstance(tweet, Tweet) for tweet in map_tweets(page))


@pytest.mark.parametrize(
    "page",
    [
        pytest.param({"data": 5}, id="data is a number"),
        pytest.param({"data": [], "includes": ["users"]}, id="includes is a list"),
        pytest.param({"includes": {"users": ["karl_k"]}}, id="a user is a string"),
        pytest.param(
            {"includes": {"users": [{"id": "1", "public_metrics": {"followers_count": 1e999}}]}},
            id="followers_count is infinite",
        ),
    ],
)
def test_pages_of_the_wrong_shape_are_mapped_to_nothing(page: dict[str, Any]) -> None:
    assert map_tweets(page) == [] and map_direct_messages(page) == []


raw_dm_events = st.fixed_dictionaries(
    {},
    optional={
        "id": snowflakes,
        "text": st.text(max_size=40),
        "sender_id": snowflakes,
        "event_type": st.sampled_from(["MessageCreate", "ParticipantsJoin", "ParticipantsLeave"]),
        "created_at": st.sampled_from(["2024-11-20T10:00:00.000Z", "soon"]),
        "dm_conversation_id": st.from_regex(r"[0-9]{1,19}-[0-9]{1,19}", fullmatch=True),
    },
)
dm_pages = st.fixed_dictionaries(
    {},
    optional={
        "data": st.lists(raw_dm_events, max_size=5),
        "includes": st.fixed_dictionaries({}, optional={"users": st.lists(raw_users)}),
    },
)


@given(dm_pages)
def test_a_dm_page_in_xs_shape_gives_exactly_its_messages_from_someone(
    page: dict[str, Any],
) -> None:
    messages = map_direct_messages(page)
    expected = [
        raw["id"]
        for raw in page.get("data", [])
        if {"id", "sender_id"} <= raw.keys()
        and raw.get("event_type", "MessageCreate") == "MessageCreate"
    ]
    assert [message.id for message in messages] == expected
    for message in messages:
        assert isinstance(message, DirectMessage)
        assert message.id.isdigit() and message.sender.id and isinstance(message.text, str)
        assert message.created_at.tzinfo is not None


@given(
    st.fixed_dictionaries(
        {
            "data": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional=dict.fromkeys(
                        ["id", "text", "sender_id", "created_at", "dm_conversation_id"], any_json
                    ),
                ),
                max_size=4,
            )
        }
    )
)
@example({"data": [{"id": "", "text": "hallo", "sender_id": "2000000001"}]})
def test_dms_mapped_from_fields_of_any_type_keep_their_promise(page: dict[str, Any]) -> None:
    for message in map_direct_messages(page):
        assert message.id.isdigit()
        assert message.conversation_id is None or isinstance(message.conversation_id, str)
