"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import ids
from handlers.actions import approval, privacy
from handlers.refusals import answering
from handlers.views import followup_modal, reply_modal


def register(app: App, services: Services) -> None:
    """Attach the modal listeners."""
    answered = answering(services)
    for callback_id, listener in (
        (ids.REPLY_MODAL, reply_modal.make_handle_reply_submission(services)),
        (ids.FOLLOWUP_MODAL, followup_modal.make_handle_followup_submission(services)),
        (ids.ESCALATE_MODAL, followup_modal.make_handle_escalate_submission(services)),
        (ids.DM_MODAL, privacy.make_handle_dm_submission(services)),
        (ids.REJECT_MODAL, approval.make_handle_reject_submission(services)),
    ):
        app.view(callback_id)(answered(listener))
