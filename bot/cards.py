"""Building the views that ticket cards and thread messages are rendered from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlmodel import Session

from bot.present import (
    CardView,
    CustomerMessageView,
    CustomerView,
    GroupMemberView,
    Suggestion,
)
from bot.topics import rules as topic_rules
from bot.topics import shown_name
from store import groups as group_queries
from store import tickets as ticket_queries
from store.models import Channel, Customer, GroupMember, Message, Ticket, TicketState


def shown_text(message: Message, mask: Callable[[str], str]) -> tuple[str, int | None]:
    """What Slack may show of a message, and the id that reveals it if that is less.

    DMs (the customer's and ours) are private: masked wherever they are shown, and only
    Reveal, which is recorded, shows them whole. Tweets and notes are shown as written.
    """
    if message.channel != Channel.DM:
        return message.text, None
    masked = mask(message.text)
    return masked, (message.id if masked != message.text else None)


def customer_view(customer: Customer, *, vip_followers: int) -> CustomerView:
    """The customer as cards show them; VIP means verified or many followers."""
    return CustomerView(
        name=customer.name,
        username=customer.username,
        followers=customer.followers,
        verified=customer.verified,
        vip=customer.verified or customer.followers >= vip_followers,
    )


def tweet_url(username: str, tweet_id: str | None) -> str | None:
    """The public address of a tweet."""
    return f"https://x.com/{username}/status/{tweet_id}" if tweet_id else None


@dataclass(frozen=True)
class Looks:
    """How Slack shows customers and what they wrote: who is a VIP, how DMs are masked.

    One object for every place a card or a message is built, so they all look the same.
    """

    vip_followers: int
    mask: Callable[[str], str] = str
    # The answer to suggest for a customer's text (`bot.suggestions`); None: no suggestions.
    # It reads through the card's own session: a second connection opened while the
    # card's transaction holds one can exhaust the pool when every thread does it.
    suggest: Callable[[Session, str], Suggestion | None] | None = None

    def shown(self, message: Message) -> tuple[str, int | None]:
        """`shown_text` of a message, with this mask."""
        return shown_text(message, self.mask)

    def card(
        self,
        session: Session,
        ticket: Ticket,
        *,
        customer: Customer | None = None,
        opening: Message | None = None,
        earlier_tickets: int | None = None,
        topics: tuple[str, ...] | None = None,
        just_opened: bool = False,
        memberships: Mapping[int, GroupMember] | None = None,
    ) -> CardView:
        """Everything the ticket's card shows; what the caller already holds is not read again.

        A ticket `just_opened` has no promise yet, so none is looked up.
        """
        assert ticket.id is not None
        customer = customer or session.get(Customer, ticket.customer_id)
        assert customer is not None and customer.id is not None
        opening = opening or ticket_queries.first_message(session=session, ticket_id=ticket.id)
        if earlier_tickets is None:
            earlier_tickets = ticket_queries.count_earlier_tickets(
                session=session, customer_id=customer.id, before_ticket_id=ticket.id
            )
        shown, reveal_id = self.shown(opening) if opening else ("", None)
        tweet_id = opening.external_id if opening and opening.external_id else ""
        promise = (
            None
            if just_opened
            else ticket_queries.earliest_open_followup(session=session, ticket_id=ticket.id)
        )
        is_tweet = opening is not None and opening.channel == Channel.TWEET
        member = (
            memberships.get(ticket.id)
            if memberships is not None  # a page's, read in one query
            else group_queries.membership(session=session, ticket_id=ticket.id)
        )
        in_group = member is not None and member.taken_out_at is None
        return CardView(
            ticket_id=ticket.id,
            tweet_id=tweet_id,
            state=ticket.state,
            source=ticket.source,
            customer=customer_view(customer, vip_followers=self.vip_followers),
            text=shown,
            url=tweet_url(customer.username, tweet_id) if is_tweet else None,
            created_at=opening.created_at if opening else ticket.created_at,
            owner_slack_id=ticket.owner_slack_id,
            keyword_query=ticket.keyword_query,
            has_pii=ticket.has_pii,
            is_fail=ticket.is_fail,
            out_of_hours=ticket.out_of_hours,
            escalated=ticket.escalated,
            earlier_tickets=earlier_tickets,
            previous_ticket_id=ticket.previous_ticket_id,
            followup_due=promise.due_at if promise else None,
            overdue=promise is not None and promise.due_fired_at is not None,
            reveal_id=reveal_id,
            topic=shown_name(ticket.topic) if ticket.topic else None,
            topics=topics if topics is not None else tuple(r.name for r in topic_rules(session)),
            group_id=member.group_id if member is not None and in_group else None,
            suggestion=self._suggestion(
                session, ticket, opening, in_group=in_group, unanswered=just_opened or None
            ),
        )

    def _suggestion(
        self,
        session: Session,
        ticket: Ticket,
        opening: Message | None,
        *,
        in_group: bool,
        unanswered: bool | None = None,
    ) -> Suggestion | None:
        """What to suggest on a card not yet answered (a group member's is on its group's).

        `unanswered`: known by the caller (a ticket just opened), so nothing is loaded.
        """
        if unanswered is None:
            unanswered = ticket.first_response_at is None and ticket.state != TicketState.RESOLVED
        if self.suggest is None or opening is None or in_group or not unanswered:
            return None
        return self.suggest(session, opening.text)

    def member(
        self, ticket: Ticket, customer: Customer, opening: Message | None
    ) -> GroupMemberView:
        """A ticket as its group's card and member list show it."""
        assert ticket.id is not None
        shown = self.shown(opening)[0] if opening else ""
        is_tweet = opening is not None and opening.channel == Channel.TWEET
        tweet_id = opening.external_id if opening and is_tweet else None
        return GroupMemberView(
            ticket_id=ticket.id,
            customer=customer_view(customer, vip_followers=self.vip_followers),
            text=shown,
            url=tweet_url(customer.username, tweet_id) if tweet_id else None,
            source=ticket.source,
        )

    def customer_message(
        self, message: Message, customer: Customer, *, reopened: bool = False
    ) -> CustomerMessageView:
        """A later customer message as its thread post shows it (a DM masked)."""
        shown, reveal_id = self.shown(message)
        return CustomerMessageView(
            ticket_id=message.ticket_id,
            customer=customer_view(customer, vip_followers=self.vip_followers),
            text=shown,
            direct=message.channel == Channel.DM,
            reveal_id=reveal_id,
            url=tweet_url(customer.username, message.external_id)
            if message.channel == Channel.TWEET
            else None,
            created_at=message.created_at,
            reopened=reopened,
        )
