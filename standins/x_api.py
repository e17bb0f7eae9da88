"""A loopback stand-in of the X API v2, answering as X does.

The real `tweepy` client talks to it over HTTP. Formats follow X's (see the recordings in
`tests/data/x-api-recordings/`): `{"data", "includes", "meta"}`, ids as strings,
`meta.newest_id/oldest_id/result_count/next_token`, problem-JSON errors, rate-limit headers
on every answer and 429 with `x-rate-limit-reset` when a window is used up. App-only
endpoints take the bearer token; posting, DMs and `/2/users/me` need OAuth 1.0a user
context.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from standins.http import Request, Response, StandIn

BEARER = "x-test-bearer"
API_KEY = "x-test-key"
ACCESS_TOKEN = "x-test-access-token"
BRAND_ID = "1000000001"
BRAND_USERNAME = "TelekomHilft"
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
UNSUMMONED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_URL = re.compile(r"https?://\S+")
_ALWAYS_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
POST_ROUTE = "POST /2/tweets"
DM_ROUTE = "POST /2/dm_conversations/with/:id/messages"
CREDITS_DETAIL = "Your enrolled account does not have any credits to fulfill this request."


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Limit:
    """A rate-limit window of one endpoint."""

    limit: int
    window: float = 900.0
    used: int = 0
    reset_at: float = 0.0


@dataclass
class DMEvent:
    """A direct message between the brand and someone."""

    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: datetime

    @property
    def conversation_id(self) -> str:
        low, high = sorted([self.sender_id, self.recipient_id], key=int)
        return f"{low}-{high}"


@dataclass
class XState:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    dm_events: list[DMEvent] = field(default_factory=list)
    no_dms_from_brand: set[str] = field(default_factory=set)


class XStandIn(StandIn):
    """X API v2 on 127.0.0.1, with the brand account and whatever users tests add."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    # -- set-up by tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything; only the brand account exists."""
        with self.lock:
            self.calls.clear()
            self.faults.clear()
            self.state = XState()
            self.limits: dict[str, Limit] = {}
            self.restrict_unsummoned_replies = True
            # X's pay-per-use answer once the account's credits are gone: 402 to everything.
            self.credits_used_up = False
            self._ids = itertools.count(1_800_000_000_000_000_000 + int(time.time() * 1000) % 10**9)
            self._user_ids = itertools.count(2_000_000_001)
        self.state.users[BRAND_ID] = {
            "id": BRAND_ID,
            "username": BRAND_USERNAME,
            "name": "Telekom hilft",
            "verified": True,
            "public_metrics": {"followers_count": 250000, "following_count": 10, "tweet_count": 1},
        }

    def next_id(self) -> str:
        """A fresh snowflake-like id; ids grow with time as X's do."""
        with self.lock:
            return str(next(self._ids))

    def add_user(
        self, username: str, name: str = "", *, followers: int = 100, verified: bool = False
    ) -> dict[str, Any]:
        """A customer account."""
        with self.lock:
            user: dict[str, Any] = {
                "id": str(next(self._user_ids)),
                "username": username,
                "name": name or username,
                "verified": verified,
                "public_metrics": {
                    "followers_count": followers,
                    "following_count": 5,
                    "tweet_count": 50,
                },
            }
            self.state.users[str(user["id"])] = user
            self.touch()
            return user

    def user_by_name(self, username: str) -> dict[str, Any] | None:
        """A user by handle, case-insensitive."""
        with self.lock:
            for user in self.state.users.values():
                if user["username"].lower() == username.lower():
                    return user
        return None

    def tweet(
        self,
        author: dict[str, Any],
        text: str,
        *,
        reply_to: dict[str, Any] | str | None = None,
        created_at: datetime | None = None,
        lang: str = "de",
    ) -> dict[str, Any]:
        """Publish a tweet. A reply starts with the @handle of whom it answers, as on X."""
        with self.lock:
            parent = (
                self.state.tweets[reply_to if isinstance(reply_to, str) else reply_to["id"]]
                if reply_to
                else None
            )
            if parent is not None:
                # X prefixes a reply with everyone in the conversation: the author of the
                # tweet answered and those it mentioned, but never the replier themselves.
                handles = [self.state.users[parent["author_id"]]["username"]]
                handles += [m["username"] for m in parent["entities"].get("mentions", [])]
                prefix = []
                for handle in handles:
                    if handle.lower() != author["username"].lower() and handle not in prefix:
                        prefix.append(handle)
                missing = [h for h in prefix if f"@{h.lower()}" not in text.lower()]
                if missing:
                    text = " ".join(f"@{h}" for h in missing) + " " + text
            tweet_id = self.next_id()
            tweet: dict[str, Any] = {
                "id": tweet_id,
                "text": text,
                "author_id": author["id"],
                "created_at": _iso(created_at or datetime.now(UTC)),
                "conversation_id": parent["conversation_id"] if parent else tweet_id,
                "lang": lang,
                "edit_history_tweet_ids": [tweet_id],
                "entities": self._entities(text),
            }
            if parent is not None:
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            self.state.tweets[tweet_id] = tweet
            self.touch()
            return tweet

    def _entities(self, text: str) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        mentions = []
        for match in _MENTION.finditer(text):
            mention: dict[str, Any] = {
                "start": match.start(),
                "end": match.end(),
                "username": match[1],
            }
            user = self.user_by_name(match[1])
            if user is not None:
                mention["id"] = user["id"]
                mention["username"] = user["username"]
            mentions.append(mention)
        if mentions:
            entities["mentions"] = mentions
        hashtags = [
            {"start": m.start(), "end": m.end(), "tag": m[1]} for m in _HASHTAG.finditer(text)
        ]
        if hashtags:
            entities["hashtags"] = hashtags
        urls = [
            {
                "start": m.start(),
                "end": m.end(),
                "url": m[0],
                "expanded_url": m[0],
                "display_url": m[0],
            }
            for m in _URL.finditer(text)
        ]
        if urls:
            entities["urls"] = urls
        return entities

    def mention(self, author: dict[str, Any], text: str, **kwargs: Any) -> dict[str, Any]:
        """A tweet that @-mentions the brand account."""
        if f"@{BRAND_USERNAME.lower()}" not in text.lower():
            text = f"@{BRAND_USERNAME} {text}"
        return self.tweet(author, text, **kwargs)

    def rate_limit(self, endpoint: str, *, limit: int, window: float = 900.0) -> None:
        """Give an endpoint (route name, e.g. `GET /2/users/:id/mentions`) a rate limit."""
        with self.lock:
            self.limits[endpoint] = Limit(limit, window)

    def posting_window(self, *, limit: int, window: float = 900.0, dms: int | None = None) -> None:
        """X's posting limits, scaled as a test likes: `limit` posts per `window` seconds
        on `POST /2/tweets` (100 per 900 s on X), and `dms` DMs (X: 15 per 900 s)."""
        self.rate_limit(POST_ROUTE, limit=limit, window=window)
        self.rate_limit(DM_ROUTE, limit=limit if dms is None else dms, window=window)

    def brand_tweets(self) -> list[dict[str, Any]]:
        """What the brand account has posted, oldest first."""
        with self.lock:
            return [t for t in self.state.tweets.values() if t["author_id"] == BRAND_ID]

    def dms_to(self, user_id: str) -> list[DMEvent]:
        """DMs the brand sent to `user_id`, oldest first."""
        with self.lock:
            return [
                e
                for e in self.state.dm_events
                if e.recipient_id == user_id and e.sender_id == BRAND_ID
            ]

    def send_dm_to_brand(self, sender: dict[str, Any], text: str) -> DMEvent:
        """A customer writes the brand a DM."""
        with self.lock:
            event = DMEvent(self.next_id(), sender["id"], BRAND_ID, text, datetime.now(UTC))
            self.state.dm_events.append(event)
            self.touch()
            return event

    # -- snapshots (the sandbox keeps its X across restarts) -----------------------------

    def snapshot(self) -> dict[str, Any]:
        """Users, tweets and DMs as plain JSON."""
        with self.lock:
            return {
                "users": self.state.users,
                "tweets": self.state.tweets,
                "dm_events": [
                    {**vars(e), "created_at": e.created_at.isoformat()}
                    for e in self.state.dm_events
                ],
                "no_dms_from_brand": sorted(self.state.no_dms_from_brand),
            }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Continue from a `snapshot`; new ids stay above the old ones, as X's grow."""
        with self.lock:
            self.state = XState(
                users=dict(snapshot["users"]),
                tweets=dict(snapshot["tweets"]),
                dm_events=[
                    DMEvent(**{**e, "created_at": datetime.fromisoformat(e["created_at"])})
                    for e in snapshot["dm_events"]
                ],
                no_dms_from_brand=set(snapshot["no_dms_from_brand"]),
            )
            ids = [int(t) for t in self.state.tweets] + [int(e.id) for e in self.state.dm_events]
            self._ids = itertools.count(max([next(self._ids), *(i + 1 for i in ids)]))
            users = [int(u) + 1 for u in self.state.users if u != BRAND_ID]
            self._user_ids = itertools.count(max([next(self._user_ids), *users]))
            self.touch()

    # -- HTTP ----------------------------------------------------------------------------

    def route_name(self, request: Request) -> str:
        path = re.sub(r"/2/users/\d+/", "/2/users/:id/", request.path)
        path = re.sub(r"/2/tweets/\d+$", "/2/tweets/:id", path)
        path = re.sub(r"/2/dm_conversations/with/\d+/", "/2/dm_conversations/with/:id/", path)
        return f"{request.method} {path}"

    @staticmethod
    def problem(
        status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
    ) -> Response:
        """X's problem-JSON error format."""
        return Response(
            status, {"title": title, "detail": detail, "type": kind, "status": status, **extra}
        )

    def _auth(self, request: Request, *, user_context: bool) -> Response | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            if header.removeprefix("Bearer ") != BEARER:
                return self.problem(401, "Unauthorized", "Unauthorized")
            if user_context:
                return self.problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                    "endpoint.  Supported authentication types are [OAuth 1.0a User Context, "
                    "OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                )
            return None
        if header.startswith("OAuth "):
            if (
                f'oauth_consumer_key="{API_KEY}"' not in header
                or f'oauth_token="{ACCESS_TOKEN}"' not in header
            ):
                return self.problem(401, "Unauthorized", "Unauthorized")
            return None
        return self.problem(401, "Unauthorized", "Unauthorized")

    def _limit_headers(self, name: str) -> tuple[dict[str, str], bool]:
        now = time.time()
        with self.lock:
            limit = self.limits.get(name)
            if limit is None:
                return {
                    "x-rate-limit-limit": "450",
                    "x-rate-limit-remaining": "449",
                    "x-rate-limit-reset": str(int(now + 900)),
                }, False
            if now >= limit.reset_at:
                limit.used, limit.reset_at = 0, now + limit.window
            exceeded = limit.used >= limit.limit
            if not exceeded:
                limit.used += 1
            headers = {
                "x-rate-limit-limit": str(limit.limit),
                "x-rate-limit-remaining": str(max(0, limit.limit - limit.used)),
                "x-rate-limit-reset": str(int(limit.reset_at) + 1),
            }
            return headers, exceeded

    def handle(self, request: Request) -> Response:
        name = self.route_name(request)
        routes = {
            "GET /2/users/me": (self._me, True),
            "GET /2/users/:id/mentions": (self._mentions, False),
            "GET /2/users/:id/tweets": (self._user_tweets, False),
            "GET /2/tweets/search/recent": (self._search, False),
            "POST /2/tweets": (self._create_tweet, True),
            "DELETE /2/tweets/:id": (self._delete_tweet, True),
            "GET /2/tweets/:id": (self._get_tweet, False),
            "GET /2/dm_events": (self._dm_events, True),
            "GET /2/dm_conversations/with/:id/dm_events": (self._dm_events, True),
            "POST /2/dm_conversations/with/:id/messages": (self._send_dm, True),
        }
        route = routes.get(name)
        if route is None:
            return self.problem(
                404,
                "Not Found Error",
                f"no route {name}",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        handler, user_context = route
        denied = self._auth(request, user_context=user_context)
        if denied is not None:
            return denied
        if self.credits_used_up:
            return self.problem(
                402, "CreditsDepleted", CREDITS_DETAIL, "https://api.twitter.com/2/problems/credits"
            )
        headers, exceeded = self._limit_headers(name)
        if exceeded:
            response = self.problem(429, "Too Many Requests", "Too Many Requests")
        else:
            with self.lock:
                response = handler(request)
        response.headers.update(headers)
        return response

    # -- field selection -----------------------------------------------------------------

    @staticmethod
    def _fields(request: Request, name: str) -> set[str]:
        return {f for f in str(request.params.get(name, "")).split(",") if f}

    def _render_user(self, user: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        out = {"id": user["id"], "name": user["name"], "username": user["username"]}
        for key in fields & {"public_metrics", "verified"}:
            out[key] = user[key]
        return out

    def _render_tweet(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {k: v for k, v in tweet.items() if k in _ALWAYS_TWEET_FIELDS or k in fields}

    def _timeline(self, request: Request, tweets: list[dict[str, Any]]) -> Response:
        """Filter by since/until/start/end, newest first, paginate, add expansions."""
        params = request.params
        try:
            max_results = int(params.get("max_results", 10))
        except ValueError:
            max_results = -1
        if not 5 <= max_results <= 100:
            return self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
                errors=[
                    {
                        "parameters": {"max_results": [str(params.get("max_results"))]},
                        "message": "The `max_results` query parameter value is not "
                        "between 5 and 100",
                    }
                ],
            )
        since = int(params["since_id"]) if params.get("since_id") else None
        until = int(params["until_id"]) if params.get("until_id") else None
        start = (
            datetime.fromisoformat(params["start_time"].replace("Z", "+00:00"))
            if params.get("start_time")
            else None
        )
        selected = []
        for tweet in sorted(tweets, key=lambda t: int(t["id"]), reverse=True):
            created = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
            if since is not None and int(tweet["id"]) <= since:
                continue
            if until is not None and int(tweet["id"]) >= until:
                continue
            if start is not None and created < start:
                continue
            selected.append(tweet)
        token = params.get("pagination_token") or params.get("next_token")
        offset = int(token.removeprefix("p")) if token else 0
        page = selected[offset : offset + max_results]
        tweet_fields = self._fields(request, "tweet.fields")
        user_fields = self._fields(request, "user.fields")
        expansions = self._fields(request, "expansions")
        body: dict[str, Any] = {}
        if page:
            body["data"] = [self._render_tweet(t, tweet_fields) for t in page]
            includes: dict[str, Any] = {}
            if "author_id" in expansions:
                authors = {t["author_id"] for t in page}
                includes["users"] = [
                    self._render_user(self.state.users[a], user_fields) for a in sorted(authors)
                ]
            if "referenced_tweets.id" in expansions:
                refs = {r["id"] for t in page for r in t.get("referenced_tweets", [])}
                found = [self.state.tweets[r] for r in sorted(refs) if r in self.state.tweets]
                if found:
                    includes["tweets"] = [self._render_tweet(t, tweet_fields) for t in found]
            if includes:
                body["includes"] = includes
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if offset + max_results < len(selected):
            meta["next_token"] = f"p{offset + max_results}"
        body["meta"] = meta
        return Response(200, body)

    # -- routes --------------------------------------------------------------------------

    def _me(self, request: Request) -> Response:
        return Response(
            200,
            {
                "data": self._render_user(
                    self.state.users[BRAND_ID], self._fields(request, "user.fields")
                )
            },
        )

    def _user_id(self, request: Request) -> str:
        return request.path.split("/")[3]

    def _mentions(self, request: Request) -> Response:
        user = self.state.users.get(self._user_id(request))
        if user is None:
            return self.problem(
                404,
                "Not Found Error",
                "Could not find user.",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        handle = user["username"].lower()
        mentioning = [
            t
            for t in self.state.tweets.values()
            if t["author_id"] != user["id"]
            and any(m["username"].lower() == handle for m in t["entities"].get("mentions", []))
        ]
        return self._timeline(request, mentioning)

    def _user_tweets(self, request: Request) -> Response:
        user_id = self._user_id(request)
        return self._timeline(
            request, [t for t in self.state.tweets.values() if t["author_id"] == user_id]
        )

    def _search(self, request: Request) -> Response:
        query = str(request.params.get("query", "")).strip()
        if not query:
            return self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        return self._timeline(
            request, [t for t in self.state.tweets.values() if _matches(query, t, self.state.users)]
        )

    def _get_tweet(self, request: Request) -> Response:
        tweet = self.state.tweets.get(request.path.rsplit("/", 1)[1])
        if tweet is None:
            return Response(
                200,
                {
                    "errors": [
                        {
                            "value": request.path.rsplit("/", 1)[1],
                            "detail": "Could not find tweet.",
                            "title": "Not Found Error",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        return Response(
            200, {"data": self._render_tweet(tweet, self._fields(request, "tweet.fields"))}
        )

    def _create_tweet(self, request: Request) -> Response:
        body = request.json_body if isinstance(request.json_body, dict) else {}
        text = str(body.get("text") or "")
        if not text:
            return self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        for tweet in self.state.tweets.values():
            if tweet["author_id"] == BRAND_ID and tweet.get("_posted_text") == text:
                return self.problem(403, "Forbidden", DUPLICATE_DETAIL)
        from twitter_text import parse_tweet

        if not parse_tweet(text).valid:
            return self.problem(403, "Forbidden", "Your Tweet text is too long.")
        reply = body.get("reply") or {}
        parent = None
        if reply.get("in_reply_to_tweet_id"):
            parent = self.state.tweets.get(str(reply["in_reply_to_tweet_id"]))
            if parent is None:
                return self.problem(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                    errors=[
                        {
                            "parameters": {
                                "reply.in_reply_to_tweet_id": [str(reply["in_reply_to_tweet_id"])]
                            },
                            "message": "The tweet you are replying to does not exist.",
                        }
                    ],
                )
            if self.restrict_unsummoned_replies and not self._summoned(parent):
                return self.problem(403, "Forbidden", UNSUMMONED_DETAIL)
        brand = self.state.users[BRAND_ID]
        tweet = self.tweet(brand, text, reply_to=parent)
        tweet["_posted_text"] = text  # what X compares to refuse duplicates; never rendered
        return Response(
            201,
            {
                "data": {
                    "id": tweet["id"],
                    "text": tweet["text"],
                    "edit_history_tweet_ids": [tweet["id"]],
                }
            },
        )

    def _summoned(self, parent: dict[str, Any]) -> bool:
        """Did the author of `parent` mention or reply to the brand in that conversation?"""
        author = parent["author_id"]
        for tweet in self.state.tweets.values():
            if (
                tweet["author_id"] != author
                or tweet["conversation_id"] != parent["conversation_id"]
            ):
                continue
            if any(m.get("id") == BRAND_ID for m in tweet["entities"].get("mentions", [])):
                return True
        return False

    def _delete_tweet(self, request: Request) -> Response:
        tweet_id = request.path.rsplit("/", 1)[1]
        tweet = self.state.tweets.get(tweet_id)
        if tweet is None or tweet["author_id"] != BRAND_ID:
            return Response(200, {"data": {"deleted": False}})
        del self.state.tweets[tweet_id]
        self.touch()
        return Response(200, {"data": {"deleted": True}})

    def _dm_events(self, request: Request) -> Response:
        events = sorted(self.state.dm_events, key=lambda e: int(e.id), reverse=True)
        if "/with/" in request.path:
            other = request.path.split("/")[4]
            events = [e for e in events if other in (e.sender_id, e.recipient_id)]
        max_results = int(request.params.get("max_results", 100))
        offset = (
            int(request.params["pagination_token"].removeprefix("p"))
            if request.params.get("pagination_token")
            else 0
        )
        page = events[offset : offset + max_results]
        fields = self._fields(request, "dm_event.fields")
        data = []
        for event in page:
            item: dict[str, Any] = {
                "id": event.id,
                "event_type": "MessageCreate",
                "text": event.text,
            }
            if "sender_id" in fields:
                item["sender_id"] = event.sender_id
            if "created_at" in fields:
                item["created_at"] = _iso(event.created_at)
            if "dm_conversation_id" in fields:
                item["dm_conversation_id"] = event.conversation_id
            if "participant_ids" in fields:
                item["participant_ids"] = [event.sender_id, event.recipient_id]
            data.append(item)
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if data:
            body["data"] = data
            if "sender_id" in self._fields(request, "expansions"):
                senders = sorted({e.sender_id for e in page})
                user_fields = self._fields(request, "user.fields")
                body["includes"] = {
                    "users": [self._render_user(self.state.users[s], user_fields) for s in senders]
                }
        if offset + max_results < len(events):
            body["meta"]["next_token"] = f"p{offset + max_results}"
        return Response(200, body)

    def _send_dm(self, request: Request) -> Response:
        participant = request.path.split("/")[4]
        if participant not in self.state.users:
            return self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        if participant in self.state.no_dms_from_brand:
            return self.problem(
                403,
                "Forbidden",
                "You cannot send messages to this user.",
                "https://api.twitter.com/2/problems/dm-permissions",
            )
        body = request.json_body if isinstance(request.json_body, dict) else {}
        text = str(body.get("text") or "")
        if not text:
            return self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        event = DMEvent(self.next_id(), BRAND_ID, participant, text, datetime.now(UTC))
        self.state.dm_events.append(event)
        self.touch()
        return Response(
            201, {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}}
        )


def _matches(query: str, tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> bool:
    """A subset of X's search syntax: words, "phrases", #tags, @handles, OR, -negation, from:."""
    text = tweet["text"].lower()
    author = users[tweet["author_id"]]["username"].lower()
    for alternative in re.split(r"\s+OR\s+", query):
        terms = re.findall(r'-?"[^"]+"|\S+', alternative)
        if all(_term(term, text, author) for term in terms):
            return True
    return False


def _term(term: str, text: str, author: str) -> bool:
    negate = term.startswith("-")
    term = term.lstrip("-").strip('"').lower()
    if term.startswith("from:"):
        hit = author == term.removeprefix("from:")
    elif term.startswith("#"):
        hit = re.search(rf"(?<![\w#]){re.escape(term)}\b", text) is not None
    else:
        hit = term in text
    return hit != negate
