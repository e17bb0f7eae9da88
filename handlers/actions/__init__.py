"""Buttons and other block actions."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import ids
from handlers.actions import approval, card, lists, privacy, reply_confirm
from handlers.blocks import followups as followup_blocks
from handlers.refusals import answering
from handlers.views import followup_modal, reply_modal


def register(app: App, services: Services) -> None:
    """Attach the listeners of the card's buttons and of the reply flow."""
    answered = answering(services)
    listeners = {
        ids.CLAIM: card.make_handle_claim_button(services),
        ids.REPLY: card.make_handle_reply_button(services),
        ids.RESOLVE: card.make_handle_resolve_button(services),
        ids.REOPEN: card.make_handle_reopen_button(services),
        ids.FOLLOWUP: followup_modal.make_handle_modal_button(
            services, followup_blocks.followup_modal
        ),
        ids.ESCALATE: followup_modal.make_handle_modal_button(
            services, followup_blocks.escalate_modal
        ),
        ids.REPLY_CANCEL: reply_confirm.handle_reply_cancel,
        ids.CANNED_PICK: reply_modal.make_handle_canned_pick(services),
        ids.REVEAL: privacy.make_handle_reveal(services),
        ids.ASK_DELETE: privacy.make_handle_ask_delete(services),
        ids.DM_BUTTON: privacy.make_handle_dm_button(services),
        ids.APPROVE: approval.make_handle_approve(services),
        ids.REJECT: approval.handle_reject,
        ids.LIST_PREVIOUS: lists.make_handle_paging(services),
        ids.LIST_NEXT: lists.make_handle_paging(services),
    }
    for action_id, listener in listeners.items():
        app.action(action_id)(answered(listener))
    # These two answer on an ephemeral offer whose button acts once: a refusal takes its place.
    for action_id, listener in (
        (ids.PROMISE_CONFIRM, followup_modal.make_handle_promise_confirm(services)),
        (ids.REPLY_CONFIRM, reply_confirm.make_handle_reply_confirm(services)),
    ):
        app.action(action_id)(answered(listener, replace_original=True))
