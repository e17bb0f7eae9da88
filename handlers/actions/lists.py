"""Paging through lists: the Previous/Next buttons of every list, ephemeral or on Home."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, Respond

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers.blocks.lists import canned, followup_list, history
from handlers.context import Payload

NOT_A_LIST = "This button does not belong to a list."
_MOST = 10_000_000  # no list is longer; a larger start is no value the bot wrote
_HOME_LISTS = {"home_tickets": "tickets", "home_followups": "followups"}


def _place(value: Any, key: str) -> int:
    """A non-negative position out of a button's value (or the Home view's metadata)."""
    number = value.get(key) if isinstance(value, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= _MOST:
        raise Refused(NOT_A_LIST)
    return number


def _wanted(action: Payload) -> dict[str, Any]:
    try:
        value = json.loads(str(action.get("value") or ""))
    except ValueError:
        raise Refused(NOT_A_LIST) from None
    if not isinstance(value, dict) or not isinstance(value.get("list"), str):
        raise Refused(NOT_A_LIST)
    _place(value, "start")
    return value


def _home_places(body: Payload) -> dict[str, int]:
    """Where the Home tab's lists stand, as the published view keeps it."""
    view = body.get("view")
    try:
        place = (
            json.loads(str(view.get("private_metadata") or "{}")) if isinstance(view, dict) else {}
        )
    except ValueError:
        place = {}
    if not isinstance(place, dict):  # not what the bot keeps there: the lists start over
        place = {}
    return {key: _place(place, key) if key in place else 0 for key in _HOME_LISTS.values()}


def list_message(services: Services, wanted: Payload) -> dict[str, Any]:
    """The page of an ephemeral list that a paging button asks for."""
    name, start = wanted["list"], _place(wanted, "start")
    if name == "followups":
        return followup_list(services.followups.listing(start=start))
    if name == "canned":
        return canned(services.canned.page(start=start))
    if name in ("history_tickets", "history_messages"):
        # A history pages its tickets and its messages apart; the button keeps the other.
        paged_tickets = name == "history_tickets"
        return history(
            services.tickets.history(
                customer_id=_place(wanted, "customer"),
                tickets_from=start if paged_tickets else _place(wanted, "tickets"),
                messages_from=_place(wanted, "messages") if paged_tickets else start,
            )
        )
    raise Refused(NOT_A_LIST)


def handle_paging(
    ack: Ack, body: Payload, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Show the neighbouring page: in place of the ephemeral list, or on the Home tab."""
    ack()
    wanted = _wanted(action)
    home_list = _HOME_LISTS.get(wanted["list"])
    if home_list is None:
        respond(response_type="ephemeral", replace_original=True, **list_message(services, wanted))
        return
    starts = _home_places(body)
    starts[home_list] = _place(wanted, "start")
    services.home.publish(
        member.user_id,
        tickets_from=starts["tickets"],
        followups_from=starts["followups"],
    )
