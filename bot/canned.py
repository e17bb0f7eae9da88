"""Canned answers: named texts with {name} and {agent} placeholders, and suggestions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from twitter_text import parse_tweet

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.present import PAGE_SIZE, Page
from bot.roster import Member
from bot.text import MAX_WEIGHTED_LENGTH, clean_text, excerpt
from bot.tickets import Tickets
from store.db import session_scope
from store.models import Canned, Customer

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_WORD = re.compile(r"[a-zäöüß0-9]{3,}")
# Words that say nothing about what a tweet is about.
_STOP = frozenset(
    [
        "und",
        "der",
        "die",
        "das",
        "ist",
        "nicht",
        "mit",
        "ich",
        "mein",
        "meine",
        "bei",
        "auf",
        "für",
        "von",
        "seit",
        "noch",
        "schon",
        "aber",
        "the",
        "and",
        "for",
        "with",
        "not",
        "you",
        "your",
        "have",
        "has",
        "this",
        "that",
        "are",
        "was",
    ]
)


@dataclass(frozen=True)
class CannedAnswer:
    """A canned answer as listed."""

    name: str
    text: str


def expand(text: str, *, customer: str, agent: str) -> str:
    """Fill in `{name}` (the customer) and `{agent}` (the agent's first name)."""
    return text.replace("{name}", customer).replace("{agent}", agent)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


@dataclass(frozen=True, kw_only=True)
class CannedAnswers:
    """The team's canned answers."""

    engine: Engine
    clock: Clock = system_clock

    def all(self, session: Session | None = None) -> list[CannedAnswer]:
        """Every canned answer, by name (read through `session` when one is open)."""
        if session is not None:
            rows = session.exec(select(Canned).order_by(col(Canned.name)))
            return [CannedAnswer(row.name, row.text) for row in rows]
        with session_scope(self.engine, readonly=True) as own:
            return self.all(own)

    def page(self, *, start: int = 0) -> Page[CannedAnswer]:
        """A page of the canned answers, by name, from `start`."""
        with session_scope(self.engine, readonly=True) as session:
            rows = session.exec(
                select(Canned).order_by(col(Canned.name)).offset(start).limit(PAGE_SIZE)
            )
            total = session.exec(select(func.count()).select_from(Canned)).one()
            return Page([CannedAnswer(row.name, row.text) for row in rows], start, int(total))

    def get(self, name: str) -> CannedAnswer:
        """One canned answer; refused, with a hint, when there is none by that name."""
        with session_scope(self.engine, readonly=True) as session:
            row = session.get(Canned, name.lower().lstrip(":"))
            if row is None:
                raise Refused(
                    f"There is no canned answer `:{excerpt(name, 64)}`. `/canned list` shows them."
                )
            return CannedAnswer(row.name, row.text)

    def filled(self, *, ticket_id: int, name: str, member: Member) -> CannedAnswer:
        """A canned answer (by its stored name) filled in for this customer and this agent."""
        answer = self.get(name)
        return CannedAnswer(
            answer.name, self.fill(ticket_id=ticket_id, text=answer.text, member=member)
        )

    def fill(self, *, ticket_id: int, text: str, member: Member) -> str:
        """`{name}` and `{agent}` filled in for this ticket's customer and this agent."""
        with session_scope(self.engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            customer_name = customer.name or f"@{customer.username}"
        return expand(
            text, customer=customer_name, agent=member.name.split()[0] if member.name else ""
        )

    def add(self, *, name: str, text: str, author: str) -> CannedAnswer:
        """Add or replace a canned answer."""
        name = name.lower().lstrip(":")
        if not _NAME.match(name):
            raise Refused("A canned answer's name is one word: letters, digits, - and _.")
        text = clean_text(text).strip()
        if not text:
            raise Refused(f"`:{name}` needs a text.")
        # The answer goes out as a reply, so it must fit one (before names and signature,
        # which the reply's own check counts).
        length = parse_tweet(text).weightedLength
        if length > MAX_WEIGHTED_LENGTH:
            raise Refused(
                f"`:{name}` is {length} characters as X counts them; a reply holds "
                f"{MAX_WEIGHTED_LENGTH}, with the signature."
            )
        now = self.clock()
        with session_scope(self.engine) as session:
            row = session.get(Canned, name) or Canned(
                name=name, text="", created_by=author, created_at=now
            )
            row.text = text
            row.updated_at = now
            session.add(row)
        return CannedAnswer(name, text)

    def remove(self, *, name: str) -> None:
        """Delete a canned answer."""
        with session_scope(self.engine) as session:
            row = session.get(Canned, name.lower().lstrip(":"))
            if row is None:
                raise Refused(f"There is no canned answer `:{excerpt(name, 64)}`.")
            session.delete(row)


def shared_words(tweet: str, answer: CannedAnswer) -> int:
    """How many meaningful words a tweet shares with a canned answer (its name counts)."""
    return len(_words(tweet) & _words(answer.name.replace("-", " ") + " " + answer.text))


def suggest(tweet: str, answers: Sequence[CannedAnswer], *, limit: int = 3) -> list[CannedAnswer]:
    """The answers that share the most words with a tweet, best first."""
    wanted = _words(tweet)
    scored = []
    for answer in answers:
        overlap = len(wanted & _words(answer.name.replace("-", " ") + " " + answer.text))
        if overlap:
            scored.append((overlap, answer.name, answer))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [answer for _, _, answer in scored[:limit]]
