"""Query functions of answers to customers (the `reply` table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, false, or_
from sqlmodel import Session, col, select

from store.models import Reply, ReplyState


def repeated_reply(
    *,
    session: Session,
    ticket_id: int,
    author: str,
    kind: str,
    text: str,
    in_reply_to: str | None,
    recipient: str | None,
    request_key: str | None,
    since: datetime,
) -> Reply | None:
    """The answer this one repeats: the same request again, or the same words since `since`.

    The same words count when they go from the same author to the same customer message
    (or, for DMs, the same customer) and were not refused or returned: an answer that
    sent nothing may be sent again.
    """
    same_words = and_(
        col(Reply.ticket_id) == ticket_id,
        col(Reply.author_slack_id) == author,
        col(Reply.kind) == kind,
        col(Reply.text) == text,
        col(Reply.in_reply_to_id) == in_reply_to,
        col(Reply.recipient_x_id) == recipient,
        col(Reply.state).not_in([ReplyState.FAILED, ReplyState.REJECTED]),
        col(Reply.created_at) >= since,
    )
    same_request = col(Reply.request_key) == request_key if request_key else false()
    return session.exec(
        select(Reply).where(or_(same_request, same_words)).order_by(col(Reply.id)).limit(1)
    ).first()
