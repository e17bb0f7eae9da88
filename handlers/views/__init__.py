"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from handlers import ids
from handlers.actions import approval, privacy
from handlers.refusals import answered
from handlers.views import followup_modal, group_answer, reply_modal


def register(app: App) -> None:
    """Attach the modal listeners."""
    for callback_id, listener in (
        (ids.REPLY_MODAL, reply_modal.handle_reply_submission),
        (ids.FOLLOWUP_MODAL, followup_modal.handle_followup_submission),
        (ids.ESCALATE_MODAL, followup_modal.handle_escalate_submission),
        (ids.DM_MODAL, privacy.handle_dm_submission),
        (ids.REJECT_MODAL, approval.handle_reject_submission),
        (ids.GROUP_ANSWER_MODAL, group_answer.handle_answer_preview),
        (ids.GROUP_CONFIRM_MODAL, group_answer.handle_answer_send),
        (ids.GROUP_RETURN_MODAL, group_answer.handle_return_submission),
    ):
        app.view(callback_id)(answered(listener))
