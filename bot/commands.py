"""Parsing what people type after a slash command. Pure functions, fuzzed by the tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import Refused
from bot.text import excerpt

_TICKET = re.compile(r"^#?([0-9]{1,9})$")
# With should_escape, Slack turns "@ben" into "<@U0BEN|ben>"; without, it stays "@ben".
_USER = re.compile(r"^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$")
_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")


@dataclass(frozen=True)
class Usage:
    """How a command is used, shown when it is typed wrong."""

    command: str
    syntax: str

    def refuse(self, problem: str = "") -> Refused:
        """A refusal that names the problem and shows the usage line."""
        lead = f"{problem} " if problem else ""
        return Refused(f"{lead}Usage: `{self.command} {self.syntax}`")


def words(text: str, count: int) -> list[str]:
    """The first `count - 1` words and the rest of the text (which may be empty)."""
    parts = text.strip().split(maxsplit=count - 1)
    return parts + [""] * (count - len(parts))


def ticket_number(token: str, usage: Usage) -> int:
    """`12` or `#12` as a ticket number."""
    match = _TICKET.match(token.strip())
    if match is None:
        problem = f"“{excerpt(token)}” is not a ticket number." if token else "Which ticket?"
        raise usage.refuse(problem)
    return int(match[1])


def only_ticket(text: str, usage: Usage) -> int:
    """The arguments of a command that takes a ticket and nothing else."""
    token, rest = words(text, 2)
    if rest:
        raise usage.refuse()
    return ticket_number(token, usage)


def ticket_and_text(text: str, usage: Usage, *, empty: str) -> tuple[int, str]:
    """The arguments of a command that takes a ticket and some text (`empty`: none given)."""
    token, rest = words(text, 2)
    ticket_id = ticket_number(token, usage)
    if not rest:
        raise usage.refuse(empty)
    return ticket_id, rest


def slack_user(token: str, usage: Usage) -> str:
    """A Slack user as Slack escapes a mention (`<@U0BEN|ben>`): their id."""
    match = _USER.match(token.strip())
    if match is None:
        raise usage.refuse(
            f"“{excerpt(token)}” is not a person; mention them with @." if token else "Who?"
        )
    return match[1]


def x_handle(token: str) -> str | None:
    """`@anna_k` or `anna_k` as an X handle, else None."""
    match = _HANDLE.match(token.strip())
    return match[1] if match else None
