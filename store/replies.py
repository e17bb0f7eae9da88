"""Query functions of answers to customers (the `reply` table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, false, or_
from sqlmodel import Session, col, select

from store.models import Reply, ReplyState


def repeated_reply(*, session: Session, reply: Reply, since: datetime) -> Reply | None:
    """The answer `reply` (not stored yet) repeats: the same request again, or the same words
    since `since`.

    The same words count when they go from the same author to the same customer message
    (or, for DMs, the same customer) and were not refused or returned: an answer that
    sent nothing may be sent again.
    """
    same_words = and_(
        col(Reply.ticket_id) == reply.ticket_id,
        col(Reply.author_slack_id) == reply.author_slack_id,
        col(Reply.kind) == reply.kind,
        col(Reply.text) == reply.text,
        col(Reply.in_reply_to_id) == reply.in_reply_to_id,
        col(Reply.recipient_x_id) == reply.recipient_x_id,
        col(Reply.state).not_in([ReplyState.FAILED, ReplyState.REJECTED]),
        col(Reply.created_at) >= since,
    )
    key = reply.request_key
    same_request = col(Reply.request_key) == key if key else false()
    return session.exec(
        select(Reply).where(or_(same_request, same_words)).order_by(col(Reply.id)).limit(1)
    ).first()
