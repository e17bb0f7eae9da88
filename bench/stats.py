"""Statistics benchmark: a year of Telekom-sized data, then `/stats 30d` and the App Home.

    python -m bench.stats                      # 150,000 tickets on SQLite
    python -m bench.stats --postgres URL       # also on PostgreSQL (or set TEST_DATABASE_URL)

The data set: 150,000 tickets over 365 days with a weekday/hour profile like a service
team's (busy 08:00–20:00 on weekdays), about 60,000 customers, customer tweets, agents'
replies (four in five tickets answered), notes, follow-ups (one in five tickets, most
kept), claim/reply/resolve events for 13 agents, and canned answers in a third of replies.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text

from bench.common import arguments
from bot.stats import Stats
from handlers.blocks.stats import home_view, stats_message
from store.db import make_engine, migrate
from store.models import Customer, FollowUp, Message, Reply, Ticket, TicketEvent

ZONE = ZoneInfo("Europe/Berlin")
END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
AGENTS = [f"U0AGENT{i:02d}" for i in range(13)]
CANNED = ["stoerung", "router", "rechnung", "vertrag", "dm-bitte", "techniker", "danke"]
# Relative ticket volume per local hour on a weekday; weekends carry a third of it.
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 15, 13, 14, 15, 15, 14, 13, 12, 10, 8, 5, 3, 2]
BATCH = 5000


def _times(count: int, rng: random.Random) -> list[datetime]:
    """`count` creation times over the year before END, shaped like a service day."""
    slots: list[tuple[datetime, float]] = []
    day = (
        (END - timedelta(days=365))
        .astimezone(ZONE)
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    while day < END:
        for hour, weight in enumerate(HOURS):
            slots.append((day.replace(hour=hour), weight * (1.0 if day.weekday() < 5 else 0.33)))
        day += timedelta(days=1)
    starts = rng.choices([s for s, _ in slots], weights=[w for _, w in slots], k=count)
    return sorted(
        min(
            (s + timedelta(seconds=rng.randrange(3600))).astimezone(UTC), END - timedelta(minutes=1)
        )
        for s in starts
    )


def generate(engine: Engine, tickets: int, seed: int = 7) -> dict[str, int]:
    """Fill an empty, migrated database; returns how many rows of each kind."""
    rng = random.Random(seed)
    customers = max(1, tickets * 2 // 5)
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("customer", "ticket", "message", "reply", "event", "followup")
    }
    for i in range(customers):
        rows["customer"].append(
            {
                "id": i + 1,
                "x_user_id": str(10_000_000 + i),
                "username": f"kunde{i}",
                "name": f"Kunde {i}",
                "followers": int(rng.lognormvariate(4, 1.5)),
                "verified": rng.random() < 0.002,
                "created_at": END - timedelta(days=400),
                "updated_at": END - timedelta(days=400),
            }
        )
    message_id = reply_id = followup_id = 0
    tweet_id = 1_800_000_000_000_000_000
    for number, created in enumerate(_times(tickets, rng), start=1):
        customer = rng.randrange(customers) + 1
        agent = rng.choice(AGENTS)
        answered = rng.random() < 0.8
        minutes = rng.lognormvariate(2.8, 0.9) if answered else None
        first_at = created + timedelta(minutes=minutes * 1.3) if minutes is not None else None
        age = END - created
        resolved = answered and age > timedelta(days=2) and rng.random() < 0.95
        state = (
            "resolved" if resolved else ("waiting" if answered else rng.choice(["new", "claimed"]))
        )
        owner = agent if state != "new" else None
        rows["ticket"].append(
            {
                "id": number,
                "customer_id": customer,
                "source": "mention" if rng.random() < 0.9 else "keyword",
                "state": state,
                "owner_slack_id": owner,
                "conversation_id": str(tweet_id),
                "channel_id": "CSUPPORT1",
                "card_ts": f"{created.timestamp():.6f}",
                "has_pii": rng.random() < 0.03,
                "is_fail": rng.random() < 0.01,
                "out_of_hours": created.astimezone(ZONE).hour not in range(8, 20),
                "escalated": False,
                "created_at": created,
                "updated_at": first_at or created,
                "claimed_at": created if owner else None,
                "first_response_at": first_at,
                "first_response_by": agent if answered else None,
                "first_response_minutes": minutes,
                "resolved_at": (first_at or created) + timedelta(hours=5) if resolved else None,
                "resolved_by": agent if resolved else None,
                "sla_missed_at": created + timedelta(minutes=40) if (minutes or 0) > 30 else None,
            }
        )
        for n in range(rng.choice([1, 1, 1, 2, 3])):
            message_id += 1
            tweet_id += 1
            rows["message"].append(
                {
                    "id": message_id,
                    "ticket_id": number,
                    "direction": "in",
                    "channel": "tweet",
                    "external_id": str(tweet_id),
                    "conversation_id": rows["ticket"][-1]["conversation_id"],
                    "author_x_id": str(10_000_000 + customer - 1),
                    "text": f"Kunde {customer}: Frage {n}",
                    "mentions_brand": True,
                    "is_fail": False,
                    "created_at": created + timedelta(minutes=n * 20),
                    "stored_at": created + timedelta(minutes=n * 20),
                }
            )
        if rng.random() < 0.3:
            message_id += 1
            rows["message"].append(
                {
                    "id": message_id,
                    "ticket_id": number,
                    "direction": "note",
                    "channel": "slack",
                    "author_slack_id": agent,
                    "text": "interne Notiz",
                    "mentions_brand": False,
                    "is_fail": False,
                    "created_at": created + timedelta(minutes=5),
                    "stored_at": created + timedelta(minutes=5),
                }
            )
        rows["event"].append(
            {
                "ticket_id": number,
                "kind": "claimed",
                "actor": agent,
                "at": created + timedelta(minutes=2),
            }
        )
        if answered and first_at is not None:
            for n in range(rng.choice([1, 1, 2])):
                reply_id += 1
                tweet_id += 1
                sent = first_at + timedelta(minutes=n * 30)
                canned = rng.choice(CANNED) if rng.random() < 0.33 else None
                rows["reply"].append(
                    {
                        "id": reply_id,
                        "ticket_id": number,
                        "kind": "tweet" if rng.random() < 0.9 else "dm",
                        "author_slack_id": agent,
                        "body": "Antwort",
                        "text": f"Antwort {reply_id} ^XX",
                        "in_reply_to_id": rows["ticket"][-1]["conversation_id"],
                        "canned_name": canned,
                        "state": "sent",
                        "external_id": str(tweet_id),
                        "attempts": 1,
                        "automatic": False,
                        "created_at": sent,
                        "sent_at": sent,
                    }
                )
                rows["event"].append(
                    {"ticket_id": number, "kind": "replied", "actor": agent, "at": sent}
                )
        if resolved:
            rows["event"].append(
                {
                    "ticket_id": number,
                    "kind": "resolved",
                    "actor": agent,
                    "at": rows["ticket"][-1]["resolved_at"],
                }
            )
        if rng.random() < 0.2:
            followup_id += 1
            due = created + timedelta(hours=rng.choice([1, 2, 4, 24]))
            closed = due < END
            state = (
                rng.choices(["kept", "late", "cancelled"], weights=[80, 15, 5])[0]
                if closed
                else "open"
            )
            rows["followup"].append(
                {
                    "id": followup_id,
                    "ticket_id": number,
                    "owner_slack_id": agent,
                    "created_by": agent,
                    "due_at": due,
                    "note": "",
                    "state": state,
                    "created_at": created,
                    "closed_at": due if state != "open" else None,
                }
            )
    tables = [
        ("customer", Customer),
        ("ticket", Ticket),
        ("message", Message),
        ("reply", Reply),
        ("event", TicketEvent),
        ("followup", FollowUp),
    ]
    with engine.begin() as connection:
        for name, model in tables:
            table = model.__table__  # type: ignore[attr-defined]
            uniform = _uniform(rows[name])
            for start in range(0, len(uniform), BATCH):
                connection.execute(insert(table), uniform[start : start + BATCH])
        if engine.dialect.name == "postgresql":
            # Ids were given explicitly; the sequences must continue after them.
            for name in ("customer", "ticket", "message", "reply", "ticketevent", "followup"):
                sequence = text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)")
                highest = connection.execute(text(f"SELECT MAX(id) FROM {name}")).scalar()  # noqa: S608
                connection.execute(sequence, {"t": name, "n": highest or 1})
        else:
            connection.execute(text("ANALYZE"))
    return {name: len(rows[name]) for name, _ in tables}


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same keys in every row (executemany needs them), missing ones as NULL."""
    keys = {key for row in rows for key in row}
    return [{key: row.get(key) for key in keys} for row in rows]


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median and worst of `runs` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def _stats_once(stats: Stats, period: str) -> None:
    stats_message(stats.report(period))


def _home_once(stats: Stats, lead: bool) -> None:
    home_view(stats.home(slack_user_id=AGENTS[0], lead=lead))


def measure(label: str, engine: Engine, tickets: int, runs: int) -> None:
    migrate(engine)
    started = time.perf_counter()
    counts = generate(engine, tickets)
    print(f"{label}: generated {counts} in {time.perf_counter() - started:.1f} s")
    stats = Stats(engine=engine, zone=ZONE, sla_minutes=30, clock=lambda: END)
    for period in ("today", "7d", "30d"):
        p50, worst = timed(partial(_stats_once, stats, period), runs)
        print(f"{label}: /stats {period:<5}  median {p50:7.1f} ms   worst {worst:7.1f} ms")
    for who, lead in (("agent", False), ("lead", True)):
        p50, worst = timed(partial(_home_once, stats, lead), runs)
        print(f"{label}: App Home ({who:<5})  median {p50:7.1f} ms   worst {worst:7.1f} ms")
    report = stats.report("30d")
    p50, p90 = report.first_response_p50 or 0, report.first_response_p90 or 0
    kept = report.sla_percent or 0
    print(
        f"{label}: /stats 30d says {report.tickets_in} tickets in, {report.replies_out} replies "
        f"out, first response p50 {p50:.1f} / p90 {p90:.1f} min, SLA kept {kept:.0f} %"
    )


def main() -> None:
    parser = arguments("stats", __doc__)
    parser.add_argument("--tickets", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="a PostgreSQL URL whose public schema may be replaced",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        engine = make_engine(f"sqlite:///{Path(workdir) / 'stats.db'}")
        measure("SQLite", engine, args.tickets, args.runs)
        engine.dispose()
    if args.postgres:
        engine = make_engine(args.postgres)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        measure("PostgreSQL", engine, args.tickets, args.runs)
        engine.dispose()
    else:
        print("PostgreSQL: skipped (no --postgres and no TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
