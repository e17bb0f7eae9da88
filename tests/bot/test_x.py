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

from bot.x import XAuthFailed, XClient, XRateLimited, XRefused, XUnavailable, map_tweets
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
