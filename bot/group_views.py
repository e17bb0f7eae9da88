"""What a group card shows, read from the database: its members, words, progress, suggestion."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from bot.cards import Looks
from bot.present import GroupCardView, GroupProgress, Suggestion
from bot.similarity import words
from store import groups as queries
from store.models import GroupState, ReplyState, TicketGroup

# Members per thread message: one section each, well inside Slack's 50 blocks and
# 3,000 characters a section, however long and escaped the tweets are.
BATCH_SIZE = 20
EXAMPLES = 3
WORDS_SAMPLE = 50  # the shared words are read from the first members: enough to see them
SHARED_WORDS = 6
# X's posting pace when the outbox knows no better (SPEC §10's X_POSTS_PER_15_MIN default).
POSTS_PER_MINUTE = 100 / 15
_WAITING_STATES = (ReplyState.QUEUED, ReplyState.SENDING, ReplyState.UNKNOWN)
# The time until a group's last row goes, read in the card's transaction (`XOutbox`).
Eta = Callable[[Session, int], timedelta | None]


def ids_of(members: list[queries.Member]) -> list[int]:
    """The ticket numbers of members as `store.groups.members` lists them."""
    return [ticket.id for _, ticket, _ in members if ticket.id is not None]


def card_view(
    session: Session, group: TicketGroup, looks: Looks, eta: Eta | None = None
) -> GroupCardView:
    """Everything the group's card shows now (`eta`: the X outbox's time left, if known)."""
    assert group.id is not None
    sample = queries.members(session=session, group_id=group.id, limit=WORDS_SAMPLE)
    firsts = queries.first_messages(session=session, ticket_ids=ids_of(sample))
    examples = [
        looks.member(ticket, customer, firsts.get(ticket.id or 0))
        for _, ticket, customer in sample[:EXAMPLES]
    ]
    states = queries.reply_states(session=session, group_id=group.id)
    waiting = sum(states.get(state, 0) for state in _WAITING_STATES)
    progress = GroupProgress(
        sent=states.get(ReplyState.SENT, 0),
        waiting=waiting,
        failed=states.get(ReplyState.FAILED, 0),
        cancelled=states.get(ReplyState.CANCELLED, 0),
    )
    return GroupCardView(
        group_id=group.id,
        size=queries.count_members(session=session, group_id=group.id),
        examples=examples,
        words=shared_words([m.text for m in firsts.values()]),
        resolved=group.state == GroupState.RESOLVED,
        answer=group.answer_body,
        answer_by=group.answer_by,
        awaiting_approval=group.answer_awaiting,
        keep_answering=group.keep_answering,
        stopped=group.stopped_at is not None,
        progress=progress,
        minutes_left=_minutes_left(session, group.id, waiting, eta),
        suggestion=_suggestion(session, looks, group, [m.text for m in firsts.values()]),
        followup_due=group.followup_due,
        followup_overdue=group.followup_fired_at is not None,
    )


def _minutes_left(session: Session, group_id: int, waiting: int, eta: Eta | None) -> int | None:
    """Minutes until the group's last row goes: as the X outbox reckons, else at X's default."""
    if not waiting:
        return None
    left = eta(session, group_id) if eta is not None else None
    if left is None:
        return math.ceil(waiting / POSTS_PER_MINUTE)
    return max(1, math.ceil(left.total_seconds() / 60))


def _suggestion(
    session: Session, looks: Looks, group: TicketGroup, texts: list[str]
) -> Suggestion | None:
    """An answer that would serve the group, until it has its own."""
    suggest = looks.suggest
    if suggest is None or group.answer_body is not None or not texts:
        return None
    return suggest(session, " ".join(texts[:EXAMPLES]))


def shared_words(texts: list[str]) -> list[str]:
    """The words most of the texts share, most shared first (at most `SHARED_WORDS`)."""
    if not texts:
        return []
    counts = Counter(word for text in texts for word in set(words(text)) if len(word) > 2)
    enough = max(2, math.ceil(len(texts) / 2))
    common = [(word, n) for word, n in counts.most_common() if n >= enough]
    return [word for word, _ in common[:SHARED_WORDS]]
