"""Building the views that ticket cards and thread messages are rendered from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.present import CardView, CustomerMessageView, CustomerView, Presenter
from store import tickets as ticket_queries
from store.models import Channel, Customer, Message, Ticket


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


def card_view(
    *,
    session: Session,
    ticket: Ticket,
    vip_followers: int,
    customer: Customer | None = None,
    opening: Message | None = None,
    earlier_tickets: int | None = None,
    mask: Callable[[str], str] = str,
) -> CardView:
    """Everything the ticket's card shows; what the caller already holds is not read again."""
    assert ticket.id is not None
    customer = customer or session.get(Customer, ticket.customer_id)
    assert customer is not None and customer.id is not None
    opening = opening or ticket_queries.first_message(session=session, ticket_id=ticket.id)
    if earlier_tickets is None:
        earlier_tickets = ticket_queries.count_earlier_tickets(
            session=session, customer_id=customer.id, before_ticket_id=ticket.id
        )
    shown, reveal_id = shown_text(opening, mask) if opening else ("", None)
    tweet_id = opening.external_id if opening and opening.external_id else ""
    promise = ticket_queries.earliest_open_followup(session=session, ticket_id=ticket.id)
    is_tweet = opening is not None and opening.channel == Channel.TWEET
    return CardView(
        ticket_id=ticket.id,
        tweet_id=tweet_id,
        state=ticket.state,
        source=ticket.source,
        customer=customer_view(customer, vip_followers=vip_followers),
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
    )


def customer_message_view(
    *,
    message: Message,
    customer: Customer,
    vip_followers: int,
    reopened: bool = False,
    mask: Callable[[str], str] = str,
) -> CustomerMessageView:
    """A later customer message as its thread post shows it (a DM masked)."""
    shown, reveal_id = shown_text(message, mask)
    return CustomerMessageView(
        ticket_id=message.ticket_id,
        customer=customer_view(customer, vip_followers=vip_followers),
        text=shown,
        direct=message.channel == Channel.DM,
        reveal_id=reveal_id,
        url=tweet_url(customer.username, message.external_id)
        if message.channel == Channel.TWEET
        else None,
        created_at=message.created_at,
        reopened=reopened,
    )


class CardRefresher:
    """Renders tickets' cards and customers' thread messages into the posting queue.

    It holds what every rendering needs (the presenter, the VIP threshold, how DMs are
    masked), so a card looks the same whoever posts or refreshes it.
    """

    def __init__(
        self, *, presenter: Presenter, vip_followers: int, mask: Callable[[str], str] = str
    ) -> None:
        self._presenter = presenter
        self._vip_followers = vip_followers
        self.mask = mask

    def refresh(self, *, session: Session, ticket: Ticket, now: datetime) -> None:
        """Queue a `chat.update` (or rewrite the unsent card) with the ticket as it is now."""
        assert ticket.id is not None
        view = card_view(
            session=session,
            ticket=ticket,
            vip_followers=self._vip_followers,
            mask=self.mask,
        )
        outbox.refresh_card(
            session=session, ticket_id=ticket.id, message=self._presenter.ticket_card(view), now=now
        )

    def post_new(
        self,
        *,
        session: Session,
        ticket: Ticket,
        customer: Customer,
        opening: Message,
        now: datetime,
        earlier_tickets: int | None = None,
    ) -> None:
        """Queue the card of a ticket just opened, in the ticket's channel."""
        assert ticket.id is not None
        view = card_view(
            session=session,
            ticket=ticket,
            vip_followers=self._vip_followers,
            customer=customer,
            opening=opening,
            earlier_tickets=earlier_tickets,
            mask=self.mask,
        )
        outbox.post_card(
            session=session,
            ticket_id=ticket.id,
            channel=ticket.channel_id,
            message=self._presenter.ticket_card(view),
            now=now,
        )

    def post_customer_message(
        self,
        *,
        session: Session,
        message: Message,
        customer: Customer,
        now: datetime,
        reopened: bool = False,
    ) -> None:
        """Queue a later customer message into its ticket's thread."""
        assert message.id is not None
        view = customer_message_view(
            message=message,
            customer=customer,
            vip_followers=self._vip_followers,
            reopened=reopened,
            mask=self.mask,
        )
        outbox.post_in_thread(
            session=session,
            ticket_id=message.ticket_id,
            message=self._presenter.customer_message(view),
            now=now,
            message_id=message.id,
        )
