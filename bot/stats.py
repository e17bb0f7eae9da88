"""Numbers for team leads: `/stats`, the App Home dashboard and the chart's data.

Definitions (also in the README):

- *Tickets in*: tickets created in the period.
- *Replies out* / *DMs out*: answers people sent in the period (the automatic
  out-of-hours answer is not counted).
- *Backlog* (now): open tickets without owner (unclaimed) and with one (claimed); open
  promises not yet due (follow-up pending) and past due (overdue).
- *First response*: business minutes (open hours only) from a ticket's creation to the
  first public reply or DM by a person, for tickets created in the period and answered;
  median and 90th percentile by the nearest-rank method.
- *SLA kept*: of the period's tickets whose SLA is decided, the share answered within
  FIRST_RESPONSE_SLA_MINUTES business minutes. Missed: answered later, or the sweep
  recorded the miss. Tickets still inside their SLA count neither way.
- *Promises kept*: of the follow-ups due in the period (and already due), the share the
  customer heard from us before the due time. Late answers and promises still open after
  their time are broken; cancelled ones do not count.
- *Per topic* (SPEC §13): the same figures for each topic's tickets (by the topic they
  have now), and per person and topic the tickets they answered first and their median.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.present import PAGE_SIZE, Page
from bot.text import excerpt
from bot.x_budget import Spend
from store import stats as queries
from store import topic_stats
from store.db import session_scope
from store.followups import count_open_followups, open_followups
from store.models import Agent, EventKind
from store.stats import Backlog
from store.topic_stats import AgentTopicRow, TopicRow


def _always_open(_at: datetime) -> bool:
    return True


PERIODS = {"today": "today", "7d": "the last 7 days", "30d": "the last 30 days"}


@dataclass(frozen=True)
class AgentFigures:
    """One person's work in the period."""

    slack_user_id: str
    claimed: int = 0
    replied: int = 0
    resolved: int = 0
    median_first_response: float | None = None


@dataclass(frozen=True)
class SeriesPoint:
    """One bar of the chart: a local day (or hour, for today)."""

    label: str
    tickets: int
    median_first_response: float | None


@dataclass(frozen=True)
class StatsReport:
    """Everything `/stats` shows."""

    period: str
    label: str
    start: datetime
    end: datetime
    tickets_in: int
    replies_out: int
    dms_out: int
    backlog: Backlog
    first_response_p50: float | None
    first_response_p90: float | None
    answered: int
    sla_kept: int
    sla_missed: int
    promises_kept: int
    promises_broken: int
    agents: list[AgentFigures] = field(default_factory=list)
    busiest_hours: list[tuple[int, int]] = field(default_factory=list)
    top_canned: list[tuple[str, int]] = field(default_factory=list)
    series: list[SeriesPoint] = field(default_factory=list)
    topics: list[TopicRow] = field(default_factory=list)
    agent_topics: list[AgentTopicRow] = field(default_factory=list)
    x_spend: Spend | None = None  # what X cost in the period (SPEC §11)

    @property
    def sla_percent(self) -> float | None:
        """SLA kept, in percent of the decided tickets."""
        decided = self.sla_kept + self.sla_missed
        return 100 * self.sla_kept / decided if decided else None

    @property
    def promises_percent(self) -> float | None:
        """Promises kept, in percent of those due."""
        due = self.promises_kept + self.promises_broken
        return 100 * self.promises_kept / due if due else None


@dataclass(frozen=True)
class HomeTicket:
    """A ticket on someone's App Home."""

    id: int
    state: str
    created_at: datetime


@dataclass(frozen=True)
class HomeFollowUp:
    """A promise on someone's App Home."""

    ticket_id: int
    due_at: datetime
    note: str
    overdue: bool


@dataclass(frozen=True)
class HomeData:
    """Everything one person's App Home shows: a page of their tickets and of their promises."""

    slack_user_id: str
    tickets: Page[HomeTicket]
    followups: Page[HomeFollowUp]
    team: StatsReport | None = None
    skills: tuple[str, ...] = ()  # the topics they work (`/team skills`)
    # present, away, or closed (outside service hours); None: not on the roster
    presence: str | None = None


@dataclass(frozen=True, kw_only=True)
class Stats:
    """Computes the figures; every aggregation runs in the database."""

    engine: Engine
    zone: ZoneInfo
    sla_minutes: int
    is_open: Callable[[datetime], bool] = _always_open
    x_spend: Callable[[datetime, datetime], Spend] | None = None
    clock: Clock = system_clock

    def window(self, period: str) -> tuple[datetime, datetime]:
        """The period's [start, end]: today since local midnight, or the last 7/30 days."""
        now = self.clock()
        if period == "today":
            local = now.astimezone(self.zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            return midnight.astimezone(now.tzinfo), now
        if period in ("7d", "30d"):
            return now - timedelta(days=int(period[:-1])), now
        raise Refused(f"“{excerpt(period, 20)}” is not a period: use today, 7d or 30d.")

    def report(self, period: str = "today") -> StatsReport:
        """The team's numbers for `today`, `7d` or `30d`."""
        start, end = self.window(period)
        now = end  # periods end now
        with session_scope(self.engine, readonly=True) as session:
            answers = queries.answers_out(session, start, end)
            p50, p90, answered = queries.first_response_percentiles(session, start, end)
            sla_kept, sla_missed = queries.sla_counts(session, start, end, self.sla_minutes)
            promises_kept, promises_broken = queries.promise_counts(session, start, end, now)
            claimed = queries.events_by_actor(session, EventKind.CLAIMED, start, end)
            resolved = queries.events_by_actor(session, EventKind.RESOLVED, start, end)
            replied = queries.replies_by_author(session, start, end)
            medians = queries.median_first_response_by_agent(session, start, end)
            hours = queries.hour_buckets(session, start, end)
            return StatsReport(
                period=period,
                label=PERIODS[period],
                start=start,
                end=end,
                tickets_in=sum(count for _, count, _ in hours),  # each in its hour
                replies_out=answers.get("tweet", 0),
                dms_out=answers.get("dm", 0),
                backlog=queries.backlog(session, now),
                first_response_p50=p50,
                first_response_p90=p90,
                answered=answered,
                sla_kept=sla_kept,
                sla_missed=sla_missed,
                promises_kept=promises_kept,
                promises_broken=promises_broken,
                agents=_agents(claimed, replied, resolved, medians),
                busiest_hours=self._busiest(hours),
                top_canned=queries.top_canned(session, start, end),
                series=self._series(period, hours),
                topics=topic_stats.by_topic(session, start, end, self.sla_minutes),
                agent_topics=topic_stats.by_agent_and_topic(session, start, end),
                x_spend=self.x_spend(start, end) if self.x_spend else None,
            )

    def _busiest(self, hours: list[tuple[datetime, int, float | None]]) -> list[tuple[int, int]]:
        """The three local hours of the day with the most tickets."""
        per_hour: Counter[int] = Counter()
        for moment, count, _ in hours:
            per_hour[moment.astimezone(self.zone).hour] += count
        return sorted(per_hour.items(), key=lambda item: (-item[1], item[0]))[:3]

    def _series(
        self, period: str, hours: list[tuple[datetime, int, float | None]]
    ) -> list[SeriesPoint]:
        """Tickets and median first response per local hour (today) or local day.

        Counts are exact; a day's median is the median of its hours' medians, which is
        close enough for a chart and keeps the work in SQL.
        """
        counts: dict[datetime, int] = defaultdict(int)
        medians: dict[datetime, list[float]] = defaultdict(list)
        for moment, count, hour_median in hours:
            local = moment.astimezone(self.zone)
            key = local if period == "today" else local.replace(hour=0)
            counts[key] += count
            if hour_median is not None:
                medians[key].append(hour_median)
        label = "%H:00" if period == "today" else "%d.%m."
        return [
            SeriesPoint(
                key.strftime(label), counts[key], median(medians[key]) if medians[key] else None
            )
            for key in sorted(counts)
        ]

    def home(
        self, *, slack_user_id: str, lead: bool, tickets_from: int = 0, followups_from: int = 0
    ) -> HomeData:
        """A person's open tickets and promises, a page of each; for leads, today's numbers."""
        now = self.clock()
        with session_scope(self.engine, readonly=True) as session:
            tickets = Page(
                [
                    HomeTicket(t.id or 0, t.state, t.created_at)
                    for t in queries.open_tickets_of(
                        session, slack_user_id, start=tickets_from, size=PAGE_SIZE
                    )
                ],
                tickets_from,
                queries.count_open_tickets_of(session, slack_user_id),
            )
            followups = Page(
                [
                    HomeFollowUp(f.ticket_id, f.due_at, f.note, f.due_at <= now)
                    for f in open_followups(
                        session, owner=slack_user_id, start=followups_from, size=PAGE_SIZE
                    )
                ],
                followups_from,
                count_open_followups(session, owner=slack_user_id),
            )
            agent = session.get(Agent, slack_user_id)
        presence = None
        if agent is not None:
            # Outside service hours everybody is away by default: nothing is assigned then.
            presence = "away" if agent.away else ("present" if self.is_open(now) else "closed")
        return HomeData(
            slack_user_id,
            tickets,
            followups,
            self.report("today") if lead else None,
            skills=tuple(s for s in agent.skills.split(",") if s) if agent else (),
            presence=presence,
        )


def _agents(
    claimed: dict[str, int],
    replied: dict[str, int],
    resolved: dict[str, int],
    medians: dict[str, float],
) -> list[AgentFigures]:
    people = set(claimed) | set(replied) | set(resolved) | set(medians)
    rows = [
        AgentFigures(p, claimed.get(p, 0), replied.get(p, 0), resolved.get(p, 0), medians.get(p))
        for p in people
    ]
    return sorted(rows, key=lambda row: (-row.replied, -row.claimed, row.slack_user_id))
