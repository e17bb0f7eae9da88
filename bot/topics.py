"""Topics (SPEC §13): which channel a new ticket goes to, decided by its words.

A topic has a name, a channel and keywords. A new ticket gets the first topic, in the
order topics were added, one of whose keywords its text contains as a whole word; case
and the spelling of umlauts do not matter (`Störung` = `stoerung`, `Straße` = `strasse`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.text import excerpt
from store.db import session_scope
from store.models import Agent, Topic

_NAME = re.compile(r"^[A-Za-z0-9ÄÖÜäöüß_-]{1,32}$")
# With should_escape, Slack turns "#festnetz" into "<#C0FEST|festnetz>" (or "<#C0FEST|>").
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{1,20})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{8,20})$")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
MAX_KEYWORDS = 50


def fold(text: str) -> str:
    """Text as topics compare it: composed, lower case, umlauts spelt out (`ä` → `ae`)."""
    return unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS).casefold()


def shown_name(name: str) -> str:
    """How a topic is named on cards: `festnetz` → `Festnetz`; `TV` stays `TV`."""
    return name if name != name.lower() else name[:1].upper() + name[1:]


@dataclass(frozen=True)
class TopicRule:
    """A topic as routing reads it: compiled once per batch of tweets."""

    name: str
    channel_id: str
    keywords: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        """Any keyword as a whole word of folded text (a keyword may be several words)."""
        words = "|".join(
            r"\s+".join(re.escape(word) for word in fold(k).split())
            for k in sorted(self.keywords, key=len, reverse=True)
            if k.strip()
        )
        if not words:
            return re.compile(r"(?!)")  # no keywords: never matches (not: always)
        return re.compile(rf"(?<!\w)(?:{words})(?!\w)")


@dataclass(frozen=True)
class Router:
    """The topics in the order they are tried, with their patterns compiled."""

    rules: tuple[tuple[TopicRule, re.Pattern[str]], ...] = ()

    @classmethod
    def of(cls, rules: Sequence[TopicRule]) -> Router:
        """A router trying `rules` in this order."""
        return cls(tuple((rule, rule.pattern) for rule in rules))

    @property
    def names(self) -> tuple[str, ...]:
        """The topics' names, in order (for the cards' Topic menus)."""
        return tuple(rule.name for rule, _ in self.rules)

    def route(self, text: str) -> TopicRule | None:
        """The first topic whose keyword `text` contains, or None."""
        if not self.rules:
            return None
        folded = fold(text)
        for rule, pattern in self.rules:
            if pattern.search(folded):
                return rule
        return None


def rules(session: Session) -> list[TopicRule]:
    """Every topic, in the order they were added (the order they are tried in)."""
    topics = session.exec(select(Topic).order_by(col(Topic.id)))
    return [TopicRule(t.name, t.channel_id, tuple(t.keywords.split())) for t in topics]


def router(session: Session) -> Router:
    """The topics as they are now, ready to route."""
    return Router.of(rules(session))


def find(session: Session, name: str) -> Topic | None:
    """The topic of this name, whatever its case."""
    wanted = name.lower()
    return next((t for t in session.exec(select(Topic)) if t.name.lower() == wanted), None)


def channel_of(token: str) -> str | None:
    """A channel as Slack escapes a mention (`<#C0FEST|festnetz>`), or a bare id: its id."""
    match = _CHANNEL.match(token.strip())
    return None if match is None else (match[1] or match[2])


def skill_list(agent: Agent) -> list[str]:
    """The topics someone works, as `/team skills` set them."""
    return [s for s in agent.skills.split(",") if s]


@dataclass(frozen=True, kw_only=True)
class Topics:
    """The topics leads set up with `/topic`."""

    engine: Engine
    clock: Clock = system_clock

    def all(self) -> list[TopicRule]:
        """Every topic in the order they are tried."""
        with session_scope(self.engine, readonly=True) as session:
            return rules(session)

    def add(self, *, name: str, channel: str, keywords: Sequence[str], author: str) -> TopicRule:
        """A new topic, tried after the ones there are."""
        if not _NAME.match(name) or name.lower() in ("none", "-"):
            raise Refused(
                f"“{excerpt(name, 40)}” cannot be a topic name: letters, digits, - and _, "
                "at most 32."
            )
        if len(keywords) > MAX_KEYWORDS or sum(len(k) + 1 for k in keywords) > 1000:
            raise Refused(f"That is too many keywords: at most {MAX_KEYWORDS}.")
        with session_scope(self.engine) as session:
            if find(session, name) is not None:
                raise Refused(
                    f"There is a topic “{name}” already; `/topic remove {name}` it first."
                )
            session.add(
                Topic(
                    name=name,
                    channel_id=channel,
                    keywords=" ".join(keywords),
                    created_by=author,
                    created_at=self.clock(),
                )
            )
        return TopicRule(name, channel, tuple(keywords))

    def remove(self, *, name: str) -> str:
        """Remove a topic; its tickets keep their topic and channel. Returns its name."""
        with session_scope(self.engine) as session:
            topic = find(session, name)
            if topic is None:
                raise Refused(f"There is no topic “{excerpt(name, 40)}”. See `/topic list`.")
            session.delete(topic)
            return topic.name

    def named(self, name: str) -> TopicRule:
        """The topic of this name, or a refusal naming the ones there are."""
        with session_scope(self.engine, readonly=True) as session:
            topic = find(session, name)
            if topic is None:
                known = ", ".join(r.name for r in rules(session)) or "none yet"
                raise Refused(f"There is no topic “{excerpt(name, 40)}” (topics: {known}).")
            return TopicRule(topic.name, topic.channel_id, tuple(topic.keywords.split()))
