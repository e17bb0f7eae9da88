"""The team roster, and who may do what: decided here, in one place."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.text import excerpt, initials_of
from store.db import session_scope
from store.models import Agent, Role

RANK = {Role.TRAINEE: 0, Role.AGENT: 1, Role.LEAD: 2}
_INITIALS = re.compile(r"^[A-Za-zÄÖÜäöüß]{1,4}$")
NOT_ON_TEAM = (
    "You are not on the Servicekanal team yet, so you cannot work tickets. "
    "Ask a team lead to add you with `/team add @you agent`."
)


class Directory(Protocol):
    """Looks up people in Slack (names, for initials)."""

    def real_name(self, user_id: str) -> str | None:
        """The person's real name, or None if Slack does not know them."""
        ...


@dataclass(frozen=True)
class Member:
    """A person on the roster, as the listeners see them."""

    user_id: str
    role: Role
    initials: str
    name: str
    skills: tuple[str, ...] = ()  # topic names (`/team skills`)
    away: bool = False

    @property
    def is_lead(self) -> bool:
        """Leads manage the team, canned answers, on-call and see the numbers."""
        return self.role == Role.LEAD


def required_role(kind: str, name: str, text: str = "") -> Role:
    """The least role needed for a request: a command, a button, a modal or a shortcut.

    `kind` is `command`, `action`, `view` or `shortcut`; `name` the command, action id or
    callback id; `text` the command's arguments.
    """
    first = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
    if kind == "command":
        if name == "/stats":
            return Role.LEAD
        if name in ("/team", "/canned", "/topic") and first in ("add", "remove"):
            return Role.LEAD
        if name == "/team" and first == "skills":
            return Role.LEAD
        if name == "/oncall" and first:
            return Role.LEAD
    if kind == "action" and name in LEAD_ACTIONS:
        return Role.LEAD
    if kind == "view" and name in LEAD_VIEWS:
        return Role.LEAD
    return Role.TRAINEE


# Buttons and modals only leads may use: approving and returning trainees' replies (and
# group answers), answering the offer to re-assign the tickets of someone who went away.
LEAD_ACTIONS = frozenset(
    {"reply_approve", "reply_reject", "group_approve", "away_reassign", "away_keep"}
)
LEAD_VIEWS = frozenset({"reply_reject_modal"})


def allows(member: Member, needed: Role) -> bool:
    """Whether `member`'s role is at least `needed`."""
    return RANK[member.role] >= RANK[needed]


def refusal_for(needed: Role) -> str:
    """What to tell someone whose role is not enough."""
    return "Only team leads can do that." if needed == Role.LEAD else NOT_ON_TEAM


@dataclass(frozen=True, kw_only=True)
class Roster:
    """Agents, trainees and leads, with their initials."""

    engine: Engine
    directory: Directory
    admins: Collection[str] = ()  # ADMIN_USER_IDS
    clock: Clock = system_clock

    def member(self, user_id: str) -> Member | None:
        """The person as a team member, or None when they are not on the roster."""
        # Read-only: this runs before every acknowledgement and must never wait for a writer.
        with session_scope(self.engine, readonly=True) as session:
            agent = session.get(Agent, user_id)
        return None if agent is None else self._as_member(agent)

    def members(self) -> list[Member]:
        """Everybody on the roster, leads first, then by name."""
        with session_scope(self.engine, readonly=True) as session:
            agents = list(session.exec(select(Agent).order_by(col(Agent.name))))
        return sorted((self._as_member(a) for a in agents), key=lambda m: -RANK[m.role])

    def _as_member(self, agent: Agent) -> Member:
        """A roster row as a member; ADMIN_USER_IDS are leads whatever the row says."""
        role = Role.LEAD if agent.slack_user_id in self.admins else Role(agent.role)
        return Member(
            user_id=agent.slack_user_id,
            role=role,
            initials=agent.initials,
            name=agent.name,
            skills=tuple(s for s in agent.skills.split(",") if s),
            away=agent.away,
        )

    def ensure_admins(self) -> None:
        """Put ADMIN_USER_IDS on the roster as leads, so someone can add the others."""
        for user_id in self.admins:
            with session_scope(self.engine) as session:
                if session.get(Agent, user_id) is not None:
                    continue
            self._save(user_id, Role.LEAD, None)

    def add(self, *, user_id: str, role: str, initials: str | None) -> Member:
        """Add someone, or change their role or initials."""
        try:
            parsed = Role(role.lower())
        except ValueError:
            shown = excerpt(role, 20)
            raise Refused(f"“{shown}” is not a role: use agent, trainee or lead.") from None
        if initials is not None and not _INITIALS.match(initials):
            shown = excerpt(initials, 10)
            raise Refused(f"“{shown}” are not initials: use one to four letters, like AS.")
        if user_id in self.admins and parsed != Role.LEAD:
            raise Refused(f"<@{user_id}> is a lead by ADMIN_USER_IDS; change that setting first.")
        return self._save(user_id, parsed, initials.upper() if initials else None)

    def _save(self, user_id: str, role: Role, initials: str | None) -> Member:
        name = self.directory.real_name(user_id)
        if name is None:
            raise Refused(f"Slack does not know <@{user_id}>.")
        now = self.clock()
        with session_scope(self.engine) as session:
            agent = session.get(Agent, user_id) or Agent(
                slack_user_id=user_id, role=role, initials="", created_at=now
            )
            agent.role = role
            agent.name = name
            agent.initials = initials or agent.initials or initials_of(name)
            agent.updated_at = now
            session.add(agent)
        return Member(user_id=user_id, role=role, initials=agent.initials, name=name)

    def set_skills(self, *, user_id: str, topics: Collection[str]) -> None:
        """The topics someone works (names as stored); auto-assignment reads them."""
        with session_scope(self.engine) as session:
            agent = session.get(Agent, user_id)
            if agent is None:
                raise Refused(f"<@{user_id}> is not on the team; `/team add` them first.")
            agent.skills = ",".join(topics)
            agent.updated_at = self.clock()
            session.add(agent)

    def set_away(self, *, user_id: str, away: bool) -> bool:
        """`/away` or `/back`; whether it changed anything (twice `/away` is once)."""
        with session_scope(self.engine) as session:
            agent = session.get(Agent, user_id)
            if agent is None:
                raise Refused(NOT_ON_TEAM)
            if agent.away == away:
                return False
            agent.away = away
            agent.updated_at = self.clock()
            session.add(agent)
            return True

    def remove(self, *, user_id: str) -> None:
        """Take someone off the roster (their tickets stay theirs until handed over)."""
        if user_id in self.admins:
            raise Refused(f"<@{user_id}> is a lead by ADMIN_USER_IDS; change that setting first.")
        with session_scope(self.engine) as session:
            agent = session.get(Agent, user_id)
            if agent is None:
                raise Refused(f"<@{user_id}> is not on the team.")
            session.delete(agent)
