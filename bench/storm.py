"""Storm benchmark: 500 customers ask alike, 100 ask something else; what it costs to answer.

    python -m bench.storm --alike 500 --others 100 --limit 100 --window 9

The alike tweets are the labelled "iphone-renewal" texts of tests/data/alike-tweets.jsonl
(all of them, also those grouping misses), each customer with a tail of their own
("Danke!", "??", …); the others are texts of other labels (at most two per label, so
they are questions of their own) and, past those, made-up questions. They arrive mixed,
`--chunk` per poll of X, and the bot posts to Slack between polls, as in a storm that
builds up. Then the lead does what the story of issue 12 does, through signed Slack
requests: Answer all on the storm's group (click, Preview, Send), Take out for a member
that does not belong, and Ben answers every other ticket with /reply while the group
answer goes out. X's posting window is scaled down on the stand-in (`--limit` posts per
`--window` seconds; X: 100 per 900 s, so the defaults scale time 1:100).

Measured: Slack posts (chat.postMessage) while the storm arrives and while it is
answered, against one card and one reply line per tweet without grouping; the agents'
actions (clicks and commands) against one /reply per tweet; pairwise precision and
recall of the grouping on the storm (and over all tweets, by the data's labels); the
time from Send until the last member's answer is on X, against the floor X's window
sets (every place of every window used); 429s from X and posts twice.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

from sqlmodel import select

from bench.common import arguments, own_words, print_table, quiet_logs, reset_calls, stand_ins
from handlers import ids
from standins.http import wait_for
from standins.slack_api import ANNA, BEN, LEAD
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Direction, GroupMember, Message
from tests.harness import BotHarness, make_settings

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "alike-tweets.jsonl"
STORM_LABEL = "iphone-renewal"
TAILS = (
    "",
    " Danke!",
    " 🙏",
    " Bitte um kurze Info.",
    "??",
    " Gruß",
    " thx",
    " !!!",
    " Danke im Voraus",
    " LG",
    " please",
    " 😅",
    " Wäre super.",
    " Eilt!",
    " Grüße aus Köln",
    " thanks",
)
ANSWER = "Hallo {name}, die Verlängerung mit dem neuen iPhone geht ab Freitag in der App."
POSTS = "POST /2/tweets"
X_WINDOW = 900.0  # X's posting window, seconds


@dataclass(frozen=True)
class PairScore:
    """Pairwise precision and recall of a grouping against the truth."""

    precision: float
    recall: float


@dataclass(frozen=True)
class StormFigures:
    """What the benchmark measured."""

    alike: int
    others: int
    posts_arriving: int  # chat.postMessage while the storm came in
    updates_arriving: int  # chat.update meanwhile (the group card counting up)
    posts_answering: int  # chat.postMessage from Answer all to the last answer
    group_size: int
    actions: int  # clicks and commands the team needed
    taken_out: int
    individually: int  # tickets answered with /reply
    storm: PairScore
    overall: PairScore
    last_member: float  # seconds from Send to the last member's answer on X
    floor: float
    rate_limited: int
    duplicates: int
    members_answered_twice: int
    others_answered_by_group: int


def labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def tweets(alike: int, others: int) -> list[tuple[str, str]]:
    """(text, label) of every tweet in arrival order: the storm with the others mixed in."""
    rows = labelled()
    storm_texts = [r["text"] for r in rows if r["label"] == STORM_LABEL]
    storm = [
        (storm_texts[i % len(storm_texts)] + TAILS[i // len(storm_texts) % len(TAILS)], STORM_LABEL)
        for i in range(alike)
    ]
    per_label: Counter[str] = Counter()
    rest: list[tuple[str, str]] = []
    for row in rows:
        if row["label"] != STORM_LABEL and per_label[row["label"]] < 2 and len(rest) < others:
            per_label[row["label"]] += 1
            rest.append((row["text"], row["label"]))
    rest += [(f"Frage {n}: {own_words(n)}", f"made-up-{n}") for n in range(others - len(rest))]
    # One other after every few alike ones, as they would come in.
    every = max(1, math.ceil(alike / max(1, others)))
    mixed: list[tuple[str, str]] = []
    for i, item in enumerate(storm):
        mixed.append(item)
        if i % every == every - 1 and rest:
            mixed.append(rest.pop(0))
    return mixed + rest


def pair_score(groups: dict[int, list[str]], labels: list[str]) -> PairScore:
    """Pairwise: predicted pairs are members of one group, true pairs share a label."""
    true_pairs = sum(comb(n, 2) for n in Counter(labels).values())
    predicted = sum(comb(len(members), 2) for members in groups.values())
    hits = sum(comb(n, 2) for m in groups.values() for n in Counter(m).values())
    return PairScore(
        precision=hits / predicted if predicted else math.nan,
        recall=hits / true_pairs if true_pairs else math.nan,
    )


def storm_score(groups: dict[int, list[str]], storm: int) -> PairScore:
    """Pairwise on the storm: pairs of alike tweets found, and of the pairs grouping made
    with an alike tweet in them, how many are two alike ones."""
    found = sum(comb(m.count(STORM_LABEL), 2) for m in groups.values())
    touching = sum(
        comb(len(m), 2) - comb(len(m) - m.count(STORM_LABEL), 2) for m in groups.values()
    )
    return PairScore(
        precision=found / touching if touching else math.nan,
        recall=found / comb(storm, 2) if storm > 1 else math.nan,
    )


def measure(alike: int, others: int, *, limit: int, window: float, chunk: int) -> StormFigures:
    """Run the storm against the stand-ins and the bot, and count."""
    with stand_ins() as (slack, x), tempfile.TemporaryDirectory() as folder:
        settings = make_settings(
            f"sqlite:///{Path(folder) / 'bench.db'}", slack, x, poll_interval_seconds=3600
        )
        bot = BotHarness(settings, slack, x)
        try:
            actions = 0
            bot.slash(LEAD, "/team", f"add <@{ANNA}|anna> agent AS")
            bot.slash(LEAD, "/team", f"add <@{BEN}|ben> agent BM")
            labels = _arrive(bot, x, tweets(alike, others), chunk)
            posts_arriving = len(slack.calls_to("chat.postMessage"))
            updates_arriving = len(slack.calls_to("chat.update"))
            groups = _groups(bot, labels)
            storm_group = max(groups, key=lambda g: groups[g].count(STORM_LABEL))
            reset_calls(slack)

            # The lead looks at the members and takes out those that do not belong.
            strays = _strays(bot, storm_group, labels)
            if strays:
                actions += 1  # Show members
            member = bot.bot.services.roster.member(LEAD)
            assert member is not None
            for ticket_id in strays:
                bot.bot.services.groups.take_out(
                    group_id=storm_group, ticket_id=ticket_id, member=member
                )
                actions += 1
            x.posting_window(limit=limit, window=window)
            stop = threading.Event()
            outbox = bot.bot.services.x_outbox
            worker = threading.Thread(target=outbox.run, args=(stop,), daemon=True)
            worker.start()
            started = time.monotonic()
            actions += _answer_all(bot, storm_group)
            members = _members(bot, storm_group)

            # Ben answers every ticket the group answer does not.
            individually = 0
            for ticket_id in sorted(set(labels) - set(members)):
                result = bot.slash(BEN, "/reply", f"{ticket_id} Schau ich mir an, {ticket_id}.")
                assert "Sent" in str(result) or "first in line" in str(result), result
                individually += 1
            actions += individually
            total = len(labels)

            def last_member_on_x() -> bool:
                return len(x.brand_tweets()) >= total

            wait_for(last_member_on_x, timeout=window * (total / limit + 4), interval=0.01)
            last_member = time.monotonic() - started
            time.sleep(min(2.0, window))  # let a duplicate show itself, if there were one
            stop.set()
            outbox.wake()
            worker.join(timeout=10)
            bot.deliver()
            posts_answering = len(slack.calls_to("chat.postMessage"))
            answered = _answered(bot)
            texts = [t["_posted_text"] for t in x.brand_tweets()]
            calls = len(x.calls_to(POSTS))
        finally:
            bot.close()
    return StormFigures(
        alike=alike,
        others=others,
        posts_arriving=posts_arriving,
        updates_arriving=updates_arriving,
        posts_answering=posts_answering,
        group_size=len(members),
        actions=actions,
        taken_out=len(strays),
        individually=individually,
        storm=storm_score(groups, alike),
        overall=pair_score(groups, list(labels.values())),
        last_member=last_member,
        floor=(math.ceil(total / limit) - 1) * window,
        rate_limited=calls - len(texts),
        duplicates=len(texts) - len(set(texts)),
        members_answered_twice=sum(n > 1 for n in answered.values()),
        others_answered_by_group=sum(labels[t] != STORM_LABEL for t in members),
    )


def _arrive(
    bot: BotHarness, x: XStandIn, arriving: list[tuple[str, str]], chunk: int
) -> dict[int, str]:
    """The tweets come in, `chunk` per poll; the label of each ticket they opened."""
    by_tweet: dict[str, str] = {}
    for start in range(0, len(arriving), chunk):
        for number, (text, label) in enumerate(arriving[start : start + chunk], start=start):
            customer = x.add_user(f"kunde{number}", f"Kunde {number}")
            by_tweet[str(x.mention(customer, text)["id"])] = label
        bot.poll_and_deliver()
    bot.deliver()
    with session_scope(bot.bot.engine, readonly=True) as session:
        opened = session.exec(
            select(Message.ticket_id, Message.external_id).where(Message.direction == Direction.IN)
        ).all()
    labels = {ticket: by_tweet[str(tweet)] for ticket, tweet in opened}
    assert len(labels) == len(arriving), (len(labels), len(arriving))
    return labels


def _groups(bot: BotHarness, labels: dict[int, str]) -> dict[int, list[str]]:
    """The labels of each group's members; a ticket alone is a group of one."""
    with session_scope(bot.bot.engine, readonly=True) as session:
        placed = dict(session.exec(select(GroupMember.ticket_id, GroupMember.group_id)).all())
    groups: dict[int, list[str]] = defaultdict(list)
    for ticket, label in labels.items():
        groups[placed.get(ticket, -ticket)].append(label)
    return dict(groups)


def _strays(bot: BotHarness, group_id: int, labels: dict[int, str]) -> list[int]:
    return [t for t in _members(bot, group_id) if labels[t] != STORM_LABEL]


def _members(bot: BotHarness, group_id: int) -> list[int]:
    with session_scope(bot.bot.engine, readonly=True) as session:
        return list(
            session.exec(
                select(GroupMember.ticket_id)
                .where(GroupMember.group_id == group_id)
                .where(GroupMember.taken_out_at == None)  # noqa: E711
            ).all()
        )


def _answer_all(bot: BotHarness, group_id: int) -> int:
    """Answer all: the click, Preview and Send, as the lead does in Slack; actions used."""
    before = len(bot.open_views())
    bot.click(LEAD, ids.GROUP_ANSWER_ALL, str(group_id), wait=False)
    view: dict[str, Any] = wait_for(lambda: bot.open_views()[before:] and bot.open_views()[-1])
    values = {
        ids.GROUP_ANSWER_BLOCK: {
            ids.GROUP_ANSWER_TEXT: {"type": "plain_text_input", "value": ANSWER}
        },
        ids.GROUP_FOLLOWUP_BLOCK: {ids.GROUP_FOLLOWUP: {"type": "static_select"}},
    }
    _, previewed = bot.submit_view(LEAD, view, values)
    assert previewed is not None and previewed["response_action"] == "push", previewed
    confirm = {**previewed["view"], "id": "VCONFIRM1", "hash": "h-VCONFIRM1"}
    _, sent = bot.submit_view(LEAD, confirm, {})
    assert sent == {"response_action": "clear"}, sent
    return 3


def _answered(bot: BotHarness) -> Counter[int]:
    with session_scope(bot.bot.engine, readonly=True) as session:
        return Counter(
            session.exec(select(Message.ticket_id).where(Message.direction == Direction.OUT))
        )


def main(argv: list[str] | None = None) -> StormFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("storm", __doc__)
    parser.add_argument("--alike", type=int, default=500, help="alike tweets (default 500)")
    parser.add_argument("--others", type=int, default=100, help="other tweets (default 100)")
    parser.add_argument("--limit", type=int, default=100, help="posts per window (default 100)")
    parser.add_argument("--window", type=float, default=9.0, help="window seconds (default 9)")
    parser.add_argument("--chunk", type=int, default=50, help="tweets per poll (default 50)")
    args = parser.parse_args(argv)
    with quiet_logs():
        f = measure(args.alike, args.others, limit=args.limit, window=args.window, chunk=args.chunk)
    tweets_in = f.alike + f.others
    time_scale = X_WINDOW / args.window
    print_table(
        f"Storm: {f.alike} alike + {f.others} other tweets, {args.chunk} per poll; X's window "
        f"{args.limit} posts / {args.window:g} s (X's 100 / 900 s: time scaled 1:"
        f"{time_scale:g}); SQLite",
        [
            ("Slack posts while it arrives", f"{f.posts_arriving} (without grouping {tweets_in})"),
            ("Slack card updates meanwhile", str(f.updates_arriving)),
            ("Slack posts while answered", f"{f.posts_answering} (without grouping {tweets_in})"),
            ("members of the storm's group", f"{f.group_size} of {f.alike}"),
            (
                "agent actions",
                f"{f.actions} (Answer all 3, take out {f.taken_out}, /reply {f.individually}; "
                f"without grouping {tweets_in})",
            ),
            ("grouping on the storm P / R", f"{f.storm.precision:.3f} / {f.storm.recall:.3f}"),
            (
                "grouping over all P / R",
                f"{f.overall.precision:.3f} / {f.overall.recall:.3f} (the data's labels)",
            ),
            ("Send to last member on X", f"{f.last_member:.1f} s"),
            (
                "floor the window sets",
                f"{f.floor:.1f} s ({tweets_in} posts; at X's window "
                f"{f.floor * time_scale / 60:.0f} min)",
            ),
            ("ratio elapsed/floor", f"{f.last_member / f.floor if f.floor else math.nan:.2f}"),
            ("429s from X", str(f.rate_limited)),
            ("posts on X twice", str(f.duplicates)),
            ("members answered twice", str(f.members_answered_twice)),
            ("others answered by the group", str(f.others_answered_by_group)),
        ],
    )
    return f


if __name__ == "__main__":
    main()
