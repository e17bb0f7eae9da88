"""Buttons and other block actions."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from handlers import ids
from handlers.actions import approval, away, card, groups, lists, privacy, reply_confirm, topic
from handlers.blocks import followups as followup_blocks
from handlers.refusals import answered
from handlers.views import followup_modal, group_answer, reply_modal

LISTENERS: dict[str, Callable[..., None]] = {
    ids.CLAIM: card.handle_claim_button,
    ids.REPLY: card.handle_reply_button,
    ids.RESOLVE: card.handle_resolve_button,
    ids.REOPEN: card.handle_reopen_button,
    ids.FOLLOWUP: followup_modal.opening(followup_blocks.followup_modal),
    ids.ESCALATE: followup_modal.opening(followup_blocks.escalate_modal),
    ids.REPLY_CANCEL: reply_confirm.handle_reply_cancel,
    ids.CANNED_PICK: reply_modal.handle_canned_pick,
    ids.REVEAL: privacy.handle_reveal,
    ids.ASK_DELETE: privacy.handle_ask_delete,
    ids.DM_BUTTON: privacy.handle_dm_button,
    ids.APPROVE: approval.handle_approve,
    ids.REJECT: approval.handle_reject,
    ids.LIST_PREVIOUS: lists.handle_paging,
    ids.LIST_NEXT: lists.handle_paging,
    ids.AWAY_REASSIGN: away.handle_away_reassign,
    ids.AWAY_KEEP: away.handle_away_keep,
    ids.TOPIC_MENU: topic.handle_topic_menu,
    ids.GROUP_SHOW_MEMBERS: groups.handle_show_members,
    ids.GROUP_MEMBERS_PAGE: groups.handle_members_page,
    ids.GROUP_TAKE_OUT: groups.handle_take_out,
    ids.GROUP_RESOLVE: groups.handle_resolve_group,
    ids.GROUP_ANSWER_ALL: group_answer.handle_answer_all,
    ids.GROUP_KEEP_ANSWERING: group_answer.handle_keep_answering,
    ids.GROUP_STOP: group_answer.handle_stop_sending,
    ids.GROUP_APPROVE: group_answer.handle_approve_group,
    ids.GROUP_RETURN: group_answer.handle_return_group,
    ids.GROUP_SEND_SUGGESTION: group_answer.handle_group_suggestion,
    ids.SEND_SUGGESTION: group_answer.handle_ticket_suggestion,
}
# These two answer on an ephemeral offer whose button acts once: a refusal takes its place.
ONE_SHOT_OFFERS: dict[str, Callable[..., None]] = {
    ids.PROMISE_CONFIRM: followup_modal.handle_promise_confirm,
    ids.REPLY_CONFIRM: reply_confirm.handle_reply_confirm,
}


def register(app: App) -> None:
    """Attach the listeners of the card's buttons and of the reply flow."""
    for action_id, listener in LISTENERS.items():
        app.action(action_id)(answered(listener))
    for action_id, listener in ONE_SHOT_OFFERS.items():
        app.action(action_id)(answered(listener, replace_original=True))
