"""The X adapter: tweepy against the X stand-in, and X's recorded formats."""

from __future__ import annotations

import contextlib
import gzip
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from bot.x import XClient
from bot.x_calls import Outcome, XCall, XKind
from bot.x_models import (
    XAuthFailed,
    XCreditsUsedUp,
    XRateLimited,
    XRefused,
    XUnavailable,
    map_direct_messages,
    map_tweets,
)
from standins import x_api
from standins.x_api import BRAND_ID, XStandIn
from tests.conftest import requires_reference


def client(x: XStandIn, **overrides: Any) -> XClient:
    values: dict[str, Any] = {
        "bearer_token": x_api.BEARER,
        "api_key": x_api.API_KEY,
        "api_secret": "s",
        "access_token": x_api.ACCESS_TOKEN,
        "access_token_secret": "t",
        "base_url": x.base_url,
        "timeout": 2.0,
    }
    values.update(overrides)
    return XClient(**values)


def test_the_brand_account_is_read_with_user_context(x: XStandIn) -> None:
    brand = client(x).me()
    assert (brand.id, brand.username, brand.verified) == (BRAND_ID, "TelekomHilft", True)
    assert x.calls_to("GET /2/users/me")[0].headers["authorization"].startswith("OAuth ")


def test_wrong_user_credentials_are_an_auth_failure(x: XStandIn) -> None:
    with pytest.raises(XAuthFailed):
        client(x, api_key="wrong").me()


def test_every_page_of_mentions_is_read_and_returned_oldest_first(x: XStandIn) -> None:
    customers = [x.add_user(f"kunde{i}", followers=i) for i in range(5)]
    tweets = [x.mention(customers[i % 5], f"Frage Nummer {i}") for i in range(250)]

    batch = client(x).mentions(
        BRAND_ID, since_id=None, start_time=datetime.now(UTC) - timedelta(hours=1)
    )

    assert [t.id for t in batch.tweets] == [t["id"] for t in tweets]
    assert batch.newest_id == tweets[-1]["id"]
    assert len(x.calls_to("GET /2/users/:id/mentions")) == 3
    first = batch.tweets[0]
    assert first.author.username == "kunde0" and first.conversation_id == first.id
    assert first.mentions(client(x).me())


def test_since_id_reads_only_what_is_new(x: XStandIn) -> None:
    anna = x.add_user("anna")
    old = x.mention(anna, "alt")
    new = x.mention(anna, "neu")
    batch = client(x).mentions(BRAND_ID, since_id=old["id"])
    assert [t.id for t in batch.tweets] == [new["id"]]
    assert x.calls_to("GET /2/users/:id/mentions")[0].params["since_id"] == old["id"]


def test_a_reply_is_mapped_with_its_conversation_and_parent(x: XStandIn) -> None:
    anna = x.add_user("anna", "Anna", followers=12345, verified=True)
    root = x.mention(anna, "Störung in 53113 #telekomfail")
    reply = x.tweet(anna, "immer noch", reply_to=root)
    tweets = client(x).mentions(BRAND_ID, since_id=root["id"]).tweets
    assert len(tweets) == 1
    mapped = tweets[0]
    assert mapped.id == reply["id"]
    assert mapped.conversation_id == root["id"]
    assert mapped.replied_to_id == root["id"]
    assert mapped.author.followers == 12345 and mapped.author.verified
    assert mapped.created_at.tzinfo is not None


def test_keyword_search_uses_the_query_and_all_pages(x: XStandIn) -> None:
    bob = x.add_user("bob")
    hits = [x.tweet(bob, f"Telekom Störung schon wieder {i}") for i in range(120)]
    x.tweet(bob, "Vodafone auch")
    batch = client(x).search("telekom störung", since_id=None)
    assert [t.id for t in batch.tweets] == [h["id"] for h in hits]


def test_a_rate_limit_carries_the_reset_time_from_the_headers(x: XStandIn) -> None:
    x.rate_limit("GET /2/users/:id/mentions", limit=1, window=600)
    xc = client(x)
    xc.mentions(BRAND_ID, since_id="1")
    with pytest.raises(XRateLimited) as caught:
        xc.mentions(BRAND_ID, since_id="1")
    assert caught.value.reset_at is not None
    assert caught.value.reset_at > datetime.now(UTC) + timedelta(minutes=9)


@pytest.mark.parametrize(
    "fault",
    [
        {
            "status": 503,
            "body": {
                "title": "Service Unavailable",
                "detail": "Service Unavailable",
                "type": "about:blank",
                "status": 503,
            },
        },
        {"status": 500, "body": "Internal Server Error"},
        {"malformed": True},
        {"drop": True},
        {"delay": 3.0},
    ],
    ids=["503", "500", "malformed-json", "connection-dropped", "timeout"],
)
def test_server_trouble_is_reported_as_unavailable(x: XStandIn, fault: dict[str, Any]) -> None:
    x.fail_next("GET /2/users/:id/mentions", **fault)
    with pytest.raises(XUnavailable):
        client(x, timeout=1.0).mentions(BRAND_ID, since_id="1")


def test_connection_refused_is_reported_as_unavailable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    xc = XClient(
        bearer_token="b",
        api_key="k",
        api_secret="s",
        access_token="a",
        access_token_secret="t",
        base_url=f"http://127.0.0.1:{port}",
        timeout=1.0,
    )
    with pytest.raises(XUnavailable):
        xc.mentions(BRAND_ID, since_id="1")


def test_a_refusal_carries_xs_explanation(x: XStandIn) -> None:
    x.fail_next(
        "GET /2/tweets/search/recent",
        status=400,
        body={
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
            "errors": [
                {"message": "There were errors processing your request: Ambiguous use of and"}
            ],
        },
    )
    with pytest.raises(XRefused) as caught:
        client(x).search("a and", since_id=None)
    assert caught.value.status == 400
    assert "Ambiguous use of and" in caught.value.user_message


def test_requests_go_to_x_api_url_not_to_twitter() -> None:
    # The autouse loopback guard would raise if anything tried api.twitter.com.
    start = time.monotonic()
    with pytest.raises(XUnavailable):
        XClient(
            bearer_token="b",
            api_key="k",
            api_secret="s",
            access_token="a",
            access_token_secret="t",
            base_url="http://127.0.0.1:9",
            timeout=1.0,
        ).me()
    assert time.monotonic() - start < 5


def recorded(name: str) -> list[dict[str, Any]]:
    path = requires_reference() / "x-api-recordings" / name
    bodies = []
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        raw = interaction["response"]["body"]["string"]
        with contextlib.suppress(OSError, TypeError):
            raw = gzip.decompress(raw)
        bodies.append(json.loads(raw))
    return bodies


def test_recorded_mentions_from_the_real_api_map_cleanly() -> None:
    body = recorded("test_client_get_users_mentions.yaml")[0]
    tweets = map_tweets({**body, "data": [{**t, "author_id": "783214"} for t in body["data"]]})
    assert len(tweets) == len(body["data"]) > 0
    assert all(t.text and t.id.isdigit() for t in tweets)


def test_recorded_search_results_keep_their_ids_and_texts() -> None:
    body = recorded("test_client_search_recent_tweets.yaml")[0]
    tweets = map_tweets({**body, "data": [{**t, "author_id": "1"} for t in body["data"]]})
    assert [t.id for t in tweets] == [t["id"] for t in body["data"]]
    assert body["meta"]["next_token"]


def test_malformed_tweets_are_skipped_not_fatal() -> None:
    tweets = map_tweets(
        {
            "data": [
                {"id": "1"},
                {"text": "no id"},
                {"id": "2", "text": "ok", "author_id": "9"},
                "junk",
            ]
        }
    )
    assert [t.id for t in tweets] == ["2"]


NOON = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)


def test_a_time_x_garbled_is_read_from_the_injected_clock(x: XStandIn) -> None:
    karl = x.add_user("karl_k")
    kept, garbled, missing = (x.mention(karl, f"Frage {i}") for i in range(3))
    x.fail_next(
        "GET /2/users/:id/mentions",
        status=200,
        body={
            "data": [
                {**kept, "created_at": "2024-11-19T08:30:00.000Z"},
                {**garbled, "created_at": "gestern"},
                {k: v for k, v in missing.items() if k != "created_at"},
            ],
            "includes": {"users": [karl]},
        },
    )
    x.fail_next(
        "GET /2/dm_events",
        status=200,
        body={"data": [{"id": "7", "event_type": "MessageCreate", "sender_id": karl["id"]}]},
    )
    xc = client(x, clock=lambda: NOON)

    tweets = xc.mentions(BRAND_ID, since_id="1").tweets
    messages = xc.dm_events(after_id=None, max_requests=1).messages

    assert [t.created_at for t in tweets] == [datetime(2024, 11, 19, 8, 30, tzinfo=UTC), NOON, NOON]
    assert [m.created_at for m in messages] == [NOON]


def one_tweet(**change: Any) -> dict[str, Any]:
    """A page with one readable tweet by user 9, with some fields changed."""
    tweet = {"id": "2", "text": "ok", "author_id": "9", **change}
    return {"data": [tweet], "includes": {"users": [{"id": "9", "username": "karl_k"}]}}


@pytest.mark.parametrize(
    "tweet",
    [
        pytest.param({"id": 2.0}, id="a float id"),
        pytest.param({"id": True}, id="a bool id"),
        pytest.param({"id": "2\n"}, id="an id with a newline"),
        pytest.param({"id": "-2"}, id="a negative id"),
        pytest.param({"author_id": 9.0}, id="a float author_id"),
        pytest.param({"text": 5}, id="a number for text"),
        pytest.param({"text": None}, id="null for text"),
    ],
)
def test_a_required_field_pydantic_would_coerce_makes_the_tweet_unreadable(
    tweet: dict[str, Any],
) -> None:
    assert map_tweets(one_tweet(**tweet)) == []


def test_an_integer_id_is_read_as_the_same_id() -> None:
    (tweet,) = map_tweets(one_tweet(id=2, author_id=9, conversation_id=2))
    assert (tweet.id, tweet.author.id, tweet.conversation_id) == ("2", "9", "2")


@pytest.mark.parametrize(
    ("change", "read"),
    [
        pytest.param({"verified": "true"}, lambda t: t.author.verified is False, id="verified"),
        pytest.param({"verified": 1}, lambda t: t.author.verified is False, id="verified-int"),
        pytest.param(
            {"public_metrics": {"followers_count": "5"}},
            lambda t: t.author.followers == 0,
            id="followers-text",
        ),
        pytest.param(
            {"public_metrics": {"followers_count": True}},
            lambda t: t.author.followers == 0,
            id="followers-bool",
        ),
        pytest.param(
            {"public_metrics": {"followers_count": 5.0}},
            lambda t: t.author.followers == 0,
            id="followers-float",
        ),
        pytest.param({"username": "karl_k\n"}, lambda t: t.author.username == "9", id="handle"),
        pytest.param({"name": 5}, lambda t: t.author.name == "", id="name"),
        pytest.param(
            {"name": "N" * 300}, lambda t: t.author.name == "N" * 200, id="a name too long to store"
        ),
        pytest.param(
            {"public_metrics": {"followers_count": 2**31}},
            lambda t: t.author.followers == 0,
            id="more followers than anyone has",
        ),
    ],
)
def test_a_user_field_of_the_wrong_type_counts_as_missing(
    change: dict[str, Any], read: Any
) -> None:
    page = one_tweet()
    page["includes"]["users"][0].update(change)
    (tweet,) = map_tweets(page)
    assert read(tweet)


@pytest.mark.parametrize(
    ("change", "read"),
    [
        pytest.param({"lang": 5}, lambda t: t.lang is None, id="lang"),
        pytest.param({"lang": "d\x00e" * 9}, lambda t: t.lang == "de" * 8, id="lang-nul-long"),
        pytest.param({"conversation_id": 2.0}, lambda t: t.conversation_id is None, id="float"),
        pytest.param(
            {"referenced_tweets": [{"type": ["replied_to"], "id": "1"}]},
            lambda t: t.replied_to_id is None,
            id="a reference whose type is a list",
        ),
        pytest.param(
            {"referenced_tweets": [{"type": "replied_to", "id": 1.0}]},
            lambda t: t.replied_to_id is None,
            id="a reference whose id is a float",
        ),
        pytest.param(
            {"entities": {"mentions": [{"id": 1.5, "username": "TelekomHilft"}, 7]}},
            lambda t: (t.mentioned_user_ids, t.mentioned_usernames) == ((), ("TelekomHilft",)),
            id="mentions",
        ),
        pytest.param(
            {"entities": {"hashtags": [{"tag": 5}, {"tag": "fail"}, "x"]}},
            lambda t: t.hashtags == ("fail",),
            id="hashtags",
        ),
    ],
)
def test_a_tweet_field_of_the_wrong_type_counts_as_missing(
    change: dict[str, Any], read: Any
) -> None:
    (tweet,) = map_tweets(one_tweet(**change))
    assert read(tweet)


@pytest.mark.parametrize(
    "created_at", [1732096800, "1732096800", "gestern", "", None, ["2024-11-20T10:00:00Z"]]
)
def test_a_time_that_is_not_xs_iso_text_is_read_from_the_clock(created_at: Any) -> None:
    (tweet,) = map_tweets(one_tweet(created_at=created_at), clock=lambda: NOON)
    assert tweet.created_at == NOON


@pytest.mark.parametrize(
    ("event", "read"),
    [
        pytest.param({}, True, id="a picture without text"),
        pytest.param({"text": None}, False, id="null for text"),
        pytest.param({"sender_id": 9.0}, False, id="a float sender"),
        pytest.param({"event_type": 5}, False, id="an event type that is no text"),
    ],
)
def test_a_dm_event_is_read_as_strictly_as_a_tweet(event: dict[str, Any], read: bool) -> None:
    page = {"data": [{"id": "3", "sender_id": "9", **event}]}
    assert [m.id for m in map_direct_messages(page)] == (["3"] if read else [])


@pytest.mark.parametrize(
    ("route", "body", "call"),
    [
        pytest.param(
            "POST /2/tweets",
            {"data": {"id": None, "text": "Wir helfen"}},
            lambda xc: xc.post_reply("Wir helfen", in_reply_to="1"),
            id="a post without id",
        ),
        pytest.param(
            "POST /2/tweets",
            {"data": {"id": "Wir helfen"}},
            lambda xc: xc.post_reply("Wir helfen", in_reply_to="1"),
            id="a post whose id is no number",
        ),
        pytest.param(
            "POST /2/dm_conversations/with/:id/messages",
            {"data": {"dm_conversation_id": "1-2", "dm_event_id": 1.5}},
            lambda xc: xc.send_dm("1", "Wir helfen"),
            id="a DM whose id is a float",
        ),
        pytest.param(
            "GET /2/users/me",
            {"data": {"id": "abc", "username": "TelekomHilft"}},
            lambda xc: xc.me(),
            id="the brand with an id that is no number",
        ),
    ],
)
def test_an_answer_without_a_readable_id_is_x_failing(
    route: str, body: dict[str, Any], call: Any, x: XStandIn
) -> None:
    x.fail_next(route, status=201, body=body)
    with pytest.raises(XUnavailable):
        call(client(x))


def test_the_posting_window_answers_with_xs_headers_and_429_beyond_it(x: XStandIn) -> None:
    customer = x.add_user("karl_k")
    tweets = [x.mention(customer, f"Frage {i}") for i in range(3)]
    x.posting_window(limit=2, window=60)
    calls: list[XCall] = []
    xc = client(x)
    xc.listen(calls.append)
    xc.post_reply("Antwort eins", in_reply_to=tweets[0]["id"])
    xc.post_reply("Antwort zwei", in_reply_to=tweets[1]["id"])
    with pytest.raises(XRateLimited) as caught:
        xc.post_reply("Antwort drei", in_reply_to=tweets[2]["id"])
    windows = [call.window for call in calls]
    assert [w.remaining for w in windows if w] == [1, 0, 0]
    assert {w.limit for w in windows if w} == {2}
    assert [call.outcome for call in calls] == [Outcome.OK, Outcome.OK, Outcome.RATE_LIMITED]
    assert caught.value.reset_at is not None
    assert caught.value.reset_at > datetime.now(UTC) + timedelta(seconds=55)
    assert [(c.kind, c.units) for c in calls] == [(XKind.POST, 1), (XKind.POST, 1), (None, 0)]


def test_the_same_text_twice_is_refused_as_x_refuses_duplicates(x: XStandIn) -> None:
    tweet = x.mention(x.add_user("karl_k"), "Kein Netz")
    xc = client(x)
    xc.post_reply("Wir schauen nach.", in_reply_to=tweet["id"])
    with pytest.raises(XRefused) as caught:
        xc.post_reply("Wir schauen nach.", in_reply_to=tweet["id"])
    assert caught.value.status == 403 and "duplicate content" in caught.value.detail


def test_credits_used_up_is_a_402_on_every_call(x: XStandIn) -> None:
    x.credits_used_up = True
    calls: list[XCall] = []
    xc = client(x)
    xc.listen(calls.append)
    with pytest.raises(XCreditsUsedUp):
        xc.mentions(BRAND_ID, since_id="1")
    with pytest.raises(XCreditsUsedUp):
        xc.send_dm(x.add_user("karl_k")["id"], "Hallo")
    assert [c.status for c in calls] == [402, 402] and {c.kind for c in calls} == {None}
    x.credits_used_up = False
    assert client(x).me().id == BRAND_ID


def test_reads_are_billed_per_resource_returned(x: XStandIn) -> None:
    customer = x.add_user("karl_k")
    for i in range(7):
        x.mention(customer, f"Frage {i}")
    calls: list[XCall] = []
    xc = client(x)
    xc.listen(calls.append)
    xc.mentions(BRAND_ID, since_id="1")
    xc.search("Frage", since_id=None)
    assert [(c.route, c.kind, c.units) for c in calls] == [
        ("GET /2/users/:id/mentions", XKind.OWNED_READ, 7),
        ("GET /2/tweets/search/recent", XKind.POST_READ, 7),
    ]
