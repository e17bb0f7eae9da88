"""Buttons and other block actions."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import ids
from handlers.actions import approval, card, lists, privacy, reply_confirm
from handlers.blocks import followups as followup_blocks
from handlers.views import followup_modal, reply_modal


def register(app: App, services: Services) -> None:
    """Attach the listeners of the card's buttons and of the reply flow."""
    app.action(ids.CLAIM)(card.make_handle_claim_button(services))
    app.action(ids.REPLY)(card.make_handle_reply_button(services))
    app.action(ids.RESOLVE)(card.make_handle_resolve_button(services))
    for button, modal in (
        (ids.FOLLOWUP, followup_blocks.followup_modal),
        (ids.ESCALATE, followup_blocks.escalate_modal),
    ):
        app.action(button)(followup_modal.make_handle_modal_button(services, modal))
    app.action(ids.PROMISE_CONFIRM)(followup_modal.make_handle_promise_confirm(services))
    app.action(ids.REPLY_CONFIRM)(reply_confirm.make_handle_reply_confirm(services))
    app.action(ids.REPLY_CANCEL)(reply_confirm.handle_reply_cancel)
    app.action(ids.CANNED_PICK)(reply_modal.make_handle_canned_pick(services))
    app.action(ids.REVEAL)(privacy.make_handle_reveal(services))
    app.action(ids.ASK_DELETE)(privacy.make_handle_ask_delete(services))
    app.action(ids.DM_BUTTON)(privacy.make_handle_dm_button(services))
    app.action(ids.APPROVE)(approval.make_handle_approve(services))
    app.action(ids.REJECT)(approval.handle_reject)
    paging = lists.make_handle_paging(services)
    app.action(ids.LIST_PREVIOUS)(paging)
    app.action(ids.LIST_NEXT)(paging)
