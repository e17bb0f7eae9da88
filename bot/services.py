"""The domain's object graph, wired in this one place: app.py, tests and benchmarks build it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.approval import Approvals
from bot.assign import Assigner
from bot.canned import CannedAnswers
from bot.cards import Looks
from bot.checks import ReplyRules
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.delivery import Delivery
from bot.escalation import Escalations, OnCall
from bot.events import EventLog
from bot.feed import TicketFeed
from bot.followups import FollowUps
from bot.group_answers import GroupAnswers
from bot.grouping import word_grouper
from bot.groups import Groups
from bot.hours import ServiceCalendar
from bot.inbox import Inbox
from bot.ingest import Ingest
from bot.moving import Moves
from bot.notices import RefusedChannels
from bot.pace import XPace
from bot.pii import PiiDetector
from bot.present import Presenter
from bot.replies import Replies
from bot.roster import Directory, Member, Roster
from bot.spikes import SpikeWatch
from bot.stats import Stats
from bot.suggestions import Suggestions
from bot.sweeps import Sweeper, SweepRules
from bot.tickets import Tickets
from bot.topics import Topics
from bot.x import XSide
from bot.x_budget import XBudget
from bot.x_outbox import XOutbox
from store.models import Role

AUTOMATIC_INITIALS = "Bot"  # the signature of the out-of-hours answer


class HomeTabs(Protocol):
    """People's App Home tabs (`bot.slack.HomePublisher`)."""

    def changed(self, people: set[str]) -> None:
        """These people's tickets changed: their tabs are due a refresh."""
        ...

    def publish(self, user_id: str, *, tickets_from: int = 0, followups_from: int = 0) -> None:
        """Show one person's tab now, its lists from these places."""
        ...


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class SlackSide:
    """What the domain needs of Slack: who the bot is, people's names, their Home tabs.

    `wake` tells the posting worker that rows were queued (it looks anyway, a moment later).
    """

    team_id: str
    bot_user_id: str
    directory: Directory
    homes: HomeTabs
    wake: Callable[[], None] = _nothing


def personal_data_detector(settings: Settings) -> PiiDetector:
    """The detector of personal data, with PHONE_REGION and CONTRACT_NUMBER_PATTERNS."""
    return PiiDetector(
        region=settings.phone_region, contract_patterns=settings.contract_number_patterns
    )


class Services:
    """The domain, wired from the settings and the adapters; nothing runs until it is called.

    Everything listeners, background jobs, tests and benchmarks call is an attribute here.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        x: XSide,
        slack: SlackSide,
        presenter: Presenter,
        clock: Clock = system_clock,
    ) -> None:
        self.settings, self.clock = settings, clock
        self.team_id, self.bot_user_id, self.home = slack.team_id, slack.bot_user_id, slack.homes
        zone = ZoneInfo(settings.timezone)
        calendar = ServiceCalendar.from_settings(
            settings.service_hours, settings.timezone, settings.holidays
        )
        pii = personal_data_detector(settings)
        self.canned = CannedAnswers(engine=engine, clock=clock)
        self.suggestions = Suggestions(
            engine=engine, canned=self.canned, similarity=settings.group_similarity, clock=clock
        )
        self.feed = TicketFeed(
            presenter=presenter,
            looks=Looks(settings.vip_followers, pii.mask, self.suggestions.for_text),
            wake=slack.wake,
            homes=slack.homes.changed,
        )
        self.groups = Groups(
            engine=engine,
            feed=self.feed,
            make_grouper=lambda: word_grouper(settings),
            clock=clock,
        )
        self.events = EventLog(engine=engine, clock=clock)
        self.roster = Roster(
            engine=engine, directory=slack.directory, admins=settings.admin_user_ids, clock=clock
        )
        self.topics = Topics(engine=engine, clock=clock)
        self.moves = Moves(
            engine=engine, feed=self.feed, support_channel=settings.support_channel_id, clock=clock
        )
        self.tickets = Tickets(engine=engine, roster=self.roster, feed=self.feed, clock=clock)
        self.followups = FollowUps(engine=engine, feed=self.feed, zone=zone, clock=clock)
        self.pace = XPace(engine, posts_per_window=settings.x_posts_per_15_min, clock=clock)
        x.client.listen(self.pace.observe)
        self.delivery = Delivery(
            engine=engine,
            x=x,
            feed=self.feed,
            business_minutes=calendar.business_minutes_between,
            clock=clock,
            pace=self.pace,
            group_changed=self.groups.refresh,
        )
        # Group answers queue their rows here and call `x_outbox.wake()`;
        # `x_outbox.progress(group_id)` is the group card's "212 of 500 answered".
        self.x_outbox = XOutbox(engine, delivery=self.delivery, pace=self.pace, clock=clock)
        self.groups.eta = lambda session, group_id: (
            self.x_outbox.progress(group_id, session=session).eta
        )
        self.approvals = Approvals(
            engine=engine, delivery=self.delivery, feed=self.feed, clock=clock
        )
        rules = ReplyRules(
            signature_format=settings.signature_format,
            allow_unsummoned=settings.x_allow_unsummoned_replies,
            pii=pii,
            public_contacts=settings.public_contact_data,
            automaton=Member(slack.bot_user_id, Role.LEAD, AUTOMATIC_INITIALS, "Servicekanal"),
        )
        self.group_answers = GroupAnswers(
            engine=engine,
            rules=rules,
            delivery=self.delivery,
            groups=self.groups,
            roster=self.roster,
            answered=self.suggestions.forget,
            clock=clock,
        )
        self.groups.on_join = self.group_answers.answer_new_member
        self.replies = Replies(
            engine=engine,
            rules=rules,
            delivery=self.delivery,
            approvals=self.approvals,
            canned=self.canned,
            followups=self.followups,
            feed=self.feed,
            clock=clock,
        )
        self.oncall = OnCall(
            engine=engine, roster=self.roster, rota=settings.oncall_rota, clock=clock
        )
        self.escalations = Escalations(
            engine=engine,
            oncall=self.oncall,
            feed=self.feed,
            channel=settings.escalation_channel,
            clock=clock,
        )
        self.sweeper = Sweeper(
            engine=engine,
            calendar=calendar,
            feed=self.feed,
            escalations=self.escalations,
            replies=self.replies,
            rules=SweepRules.from_settings(settings),
            clock=clock,
        )
        self.x_budget = XBudget(
            engine=engine,
            prices=settings.x_prices,
            zone=zone,
            feed=self.feed,
            escalations=self.escalations,
            leads=lambda: [m.user_id for m in self.roster.members() if m.role == Role.LEAD],
            monthly_budget=settings.x_monthly_budget,
            clock=clock,
        )
        x.client.listen(self.x_budget.observe, replay=True)
        self.refused_channels = RefusedChannels(
            engine=engine,
            leads=lambda: [m.user_id for m in self.roster.members() if m.is_lead],
            wake=slack.wake,
            clock=clock,
        )
        self.spikes = SpikeWatch(engine=engine, escalations=self.escalations, clock=clock)
        self.inbox = Inbox(
            engine=engine,
            brand=x.brand,
            feed=self.feed,
            support_channel=settings.support_channel_id,
            is_open=calendar.is_open,
            pii=pii,
            clock=clock,
            groups=self.groups,
        )
        self.assigner = Assigner(
            engine=engine,
            feed=self.feed,
            mode=settings.assignment,
            cap=settings.max_open_per_agent,
            trainees=settings.auto_assign_trainees,
            is_open=calendar.is_open,
            leads=lambda: [m.user_id for m in self.roster.members() if m.is_lead],
            render_offer=presenter.away_offer,
            clock=clock,
        )
        self.ingest = Ingest(
            engine=engine,
            x=x,
            inbox=self.inbox,
            opened=self.assigner.new_tickets,
            keyword_queries=settings.x_keyword_queries,
            backfill=timedelta(hours=settings.backfill_hours),
            keywords_paused=self.x_budget.keyword_searches_paused,
            clock=clock,
        )
        self.stats = Stats(
            engine=engine,
            zone=zone,
            sla_minutes=settings.first_response_sla_minutes,
            is_open=calendar.is_open,
            x_spend=self.x_budget.spend,
            clock=clock,
        )
