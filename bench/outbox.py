"""X outbox benchmark: how fast a group answer drains at X's posting limit.

    python -m bench.outbox --rows 200 --limit 20 --window 9

N customers asked; a group answer queues one public reply to each (the rows engineer B's
Answer all writes). The X stand-in enforces a posting window on `POST /2/tweets` with
X's headers: `--limit` posts per `--window` seconds (X: 100 per 900 s; the defaults
scale X's 15 minutes down to 9 s and its 100 posts to 20, so that a run takes about a
minute and a half); the bot learns the window only from the headers. While the group is
sent, agents answer `--individual` other customers. Measured: from the first group post
to the last, against the floor the window sets (every window used fully), the 429s X
answered, and how long each individual reply took to reach X.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from app import build
from bench.common import SUPPORT_CHANNEL, arguments, print_table, quiet_logs, stand_ins
from bot.delivery import ReplyStatus
from standins.http import wait_for
from standins.slack_api import LEAD
from store.db import session_scope
from store.models import Reply, ReplyKind, ReplyState, Ticket, TicketGroup
from tests.harness import make_settings

POSTS = "POST /2/tweets"


@dataclass(frozen=True)
class OutboxFigures:
    """What the benchmark measured."""

    rows: int
    individual: int
    span: float  # first group post to last, seconds
    floor: float  # the fastest the window allows for all posts
    rate_limited: int  # POST /2/tweets calls that X answered 429
    individual_latency_max: float  # seconds from an agent's send to its reply on X
    individual_sent_at_once: int  # answered in the agent's own request
    duplicates: int  # posts on X more than once

    @property
    def ratio(self) -> float:
        """Drain time over the floor (1.0: every place of every window used)."""
        return self.span / self.floor if self.floor else math.nan


def measure(rows: int, *, limit: int, window: float, individual: int) -> OutboxFigures:
    """Queue a group answer of `rows` rows and let the running outbox send it."""
    with stand_ins() as (slack, x), tempfile.TemporaryDirectory() as folder:
        settings = make_settings(
            f"sqlite:///{Path(folder) / 'bench.db'}", slack, x, poll_interval_seconds=3600
        )
        bot = build(settings, post_interval=0)
        services = bot.services
        try:
            total = rows + individual
            for number in range(1, total + 1):
                x.mention(x.add_user(f"kunde{number}"), f"Geht das neue iPhone? ({number})")
            services.ingest.poll()
            bot.poster.drain()
            _queue_group(bot.engine, range(1, rows + 1))
            x.posting_window(limit=limit, window=window)
            lead = services.roster.member(LEAD)
            assert lead is not None
            stop = threading.Event()
            worker = threading.Thread(target=services.x_outbox.run, args=(stop,), daemon=True)
            worker.start()
            services.x_outbox.wake()
            latencies, at_once = [], 0
            gap = window * rows / limit / (individual + 1)
            for number in range(rows + 1, total + 1):
                time.sleep(gap)
                asked = time.monotonic()
                result = services.replies.send(
                    ticket_id=number, body=f"Ja, Kunde {number}, das geht.", member=lead
                )
                at_once += result.status == ReplyStatus.SENT
                handle = f"@kunde{number} "

                def arrived(handle: str = handle) -> bool:
                    return any(t["text"].startswith(handle) for t in x.brand_tweets())

                wait_for(arrived, timeout=window * 3)
                latencies.append(time.monotonic() - asked)
            wait_for(lambda: len(x.brand_tweets()) >= total, timeout=window * (total / limit + 3))
            stop.set()
            services.x_outbox.wake()
            worker.join(timeout=10)
            times = sorted(
                datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
                for t in x.brand_tweets()
                if "ab Freitag" in t["text"]
            )
            texts = [t["text"] for t in x.brand_tweets()]
            calls = len(x.calls_to(POSTS))
        finally:
            bot.stop_background()
            bot.engine.dispose()
    return OutboxFigures(
        rows=rows,
        individual=individual,
        span=(times[-1] - times[0]).total_seconds(),
        floor=(math.ceil(total / limit) - 1) * window,
        rate_limited=calls - len(texts),
        individual_latency_max=max(latencies, default=0.0),
        individual_sent_at_once=at_once,
        duplicates=len(texts) - len(set(texts)),
    )


def _queue_group(engine: Engine, tickets: range) -> None:
    """What a group answer writes: one queued, personalised row per member."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        # The group the rows answer: its card shows their progress.
        if session.get(TicketGroup, 1) is None:
            session.add(
                TicketGroup(id=1, channel_id=SUPPORT_CHANNEL, created_at=now, updated_at=now)
            )
        for ticket_id in tickets:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            session.add(
                Reply(
                    ticket_id=ticket_id,
                    kind=ReplyKind.TWEET,
                    author_slack_id=LEAD,
                    body="Ja, ab Freitag.",
                    text=f"Hallo Kunde {ticket_id}, ja: ab Freitag geht das. ^LL",
                    in_reply_to_id=ticket.conversation_id,
                    state=ReplyState.QUEUED,
                    group_id=1,
                    created_at=now,
                )
            )


def main(argv: list[str] | None = None) -> OutboxFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("outbox", __doc__)
    parser.add_argument("--rows", type=int, default=200, help="group rows (default 200)")
    parser.add_argument("--limit", type=int, default=20, help="posts per window (default 20)")
    parser.add_argument("--window", type=float, default=9.0, help="window seconds (default 9)")
    parser.add_argument(
        "--individual", type=int, default=5, help="agents' replies meanwhile (default 5)"
    )
    args = parser.parse_args(argv)
    with quiet_logs():
        figures = measure(
            args.rows, limit=args.limit, window=args.window, individual=args.individual
        )
    scale = 900 / args.window
    print_table(
        f"X outbox: {figures.rows} group rows + {figures.individual} individual replies; "
        f"window {args.limit} posts / {args.window:g} s (X's 15 minutes scaled 1:{scale:g}); "
        "SQLite",
        [
            ("first to last group post", f"{figures.span:.1f} s"),
            ("floor the window sets", f"{figures.floor:.1f} s"),
            ("ratio elapsed/floor", f"{figures.ratio:.2f}"),
            ("429s from X", str(figures.rate_limited)),
            ("individual replies sent at once", f"{figures.individual_sent_at_once}"),
            ("individual reply, slowest", f"{figures.individual_latency_max:.2f} s"),
            ("posts on X twice", str(figures.duplicates)),
        ],
    )
    return figures


if __name__ == "__main__":
    main()
