"""The services handed to the Slack listeners, built once by app.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.canned import CannedAnswers
from bot.clock import Clock
from bot.config import Settings
from bot.escalation import Escalations, OnCall
from bot.events import EventLog
from bot.followups import FollowUps
from bot.ingest import Ingest
from bot.replies import Replies
from bot.roster import Roster
from bot.slack import HomePublisher
from bot.stats import Stats
from bot.tickets import Tickets


@dataclass
class Services:
    """Everything a listener may call; listeners never build anything themselves."""

    settings: Settings
    engine: Engine
    clock: Clock
    events: EventLog
    ingest: Ingest
    roster: Roster
    tickets: Tickets
    replies: Replies
    canned: CannedAnswers
    followups: FollowUps
    escalations: Escalations
    oncall: OnCall
    stats: Stats
    home: HomePublisher
    team_id: str
    bot_user_id: str
