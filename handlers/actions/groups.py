"""The group card's buttons: Show members (with Take out and paging), Resolve group."""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers.blocks.groups import members_modal
from handlers.context import Payload, beside, number_on
from handlers.values import NOT_OURS


def pair_on(action: Payload) -> tuple[int, int]:
    """The two numbers a member-list button carries: `group:ticket` or `group:start`."""
    value = str(action.get("value") or "")
    first, _, second = value.partition(":")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (first, second)):
        raise Refused(NOT_OURS)
    return int(first), int(second)


def handle_show_members(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Open the member list of the group, first page."""
    ack()
    group_id = number_on(action)
    page = services.groups.members(group_id=group_id)
    client.views_open(trigger_id=body["trigger_id"], view=members_modal(group_id, page))


def handle_members_page(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Show another page of the member list, in the same modal."""
    ack()
    group_id, start = pair_on(action)
    page = services.groups.members(group_id=group_id, start=start)
    view = body.get("view") or {}
    client.views_update(view_id=view.get("id"), view=members_modal(group_id, page))


def handle_take_out(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Take a member out of its group: it gets its own card; the list shows the rest."""
    ack()
    group_id, ticket_id = pair_on(action)
    try:
        services.groups.take_out(group_id=group_id, ticket_id=ticket_id, member=member)
    finally:  # taken out now, or by a colleague a moment ago: the list shows who is left
        view = body.get("view") or {}
        page = services.groups.members(group_id=group_id)
        client.views_update(view_id=view.get("id"), view=members_modal(group_id, page))


def handle_resolve_group(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Resolve the group: members without their own conversation are resolved with it."""
    ack()
    group_id = number_on(action)
    resolved, left = services.groups.resolve(group_id=group_id, member=member)
    text = f"Sammelfrage {group_id} is resolved: {resolved} tickets with it."
    if left:
        text += f" {left} with a card of their own stay open: they may be talking with you there."
    beside(respond, text)
