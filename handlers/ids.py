"""Slack ids of our interactive parts, in one place (buttons, modals, shortcuts)."""

from __future__ import annotations

# Buttons on the ticket card; each carries the ticket number as its value.
CLAIM = "ticket_claim"
REPLY = "ticket_reply"
FOLLOWUP = "ticket_followup"
RESOLVE = "ticket_resolve"
REOPEN = "ticket_reopen"  # in Resolve's place on a resolved card
ESCALATE = "ticket_escalate"
CARD_ACTIONS = (CLAIM, REPLY, FOLLOWUP, RESOLVE, ESCALATE)

# Message shortcut: answer the customer from any message of a ticket's thread.
REPLY_SHORTCUT = "reply_from_thread"

# The reply modal and what happens inside it.
REPLY_MODAL = "reply_modal"
REPLY_TEXT_BLOCK = "reply_text"
REPLY_TEXT = "text"
REPLY_CONFIRM_BLOCK = "confirm"
REPLY_CONFIRM_BOX = "confirm"
CANNED_PICK = "reply_canned_pick"

# The ephemeral "send anyway?" question after /reply with warnings.
REPLY_CONFIRM = "reply_confirm"
REPLY_CANCEL = "reply_cancel"

# Promises: the Follow-up button's modal, the reply modal's choice, the offer after a reply.
FOLLOWUP_MODAL = "followup_modal"
FOLLOWUP_WHEN_BLOCK = "when"
FOLLOWUP_WHEN = "when"
FOLLOWUP_NOTE_BLOCK = "note"
FOLLOWUP_NOTE = "note"
REPLY_FOLLOWUP_BLOCK = "promise"
REPLY_FOLLOWUP = "promise"
PROMISE_CONFIRM = "promise_confirm"

# The Escalate button's modal.
ESCALATE_MODAL = "escalate_modal"
ESCALATE_REASON_BLOCK = "reason"
ESCALATE_REASON = "reason"

# Personal data and DMs.
REVEAL = "reveal_message"  # show a masked DM unmasked, to the one who clicks (audited)
DM_BUTTON = "ticket_dm"  # on cards with personal data or found by keyword: answer by DM
ASK_DELETE = "ticket_ask_delete"  # on cards with personal data: ask to delete, move to DM
DM_MODAL = "dm_modal"
DM_TEXT_BLOCK = "dm_text"
DM_TEXT = "text"

# Trainees' replies wait for a lead.
APPROVE = "reply_approve"
REJECT = "reply_reject"
REJECT_MODAL = "reply_reject_modal"
REJECT_NOTE_BLOCK = "note"
REJECT_NOTE = "note"

# Paging through a list (ephemeral lists and the Home tab's); the value names the list.
LIST_PREVIOUS = "list_previous"
LIST_NEXT = "list_next"

# To a lead by DM when someone goes away holding open tickets (SPEC §13).
AWAY_REASSIGN = "away_reassign"  # value: the away person's user id
AWAY_KEEP = "away_keep"

# The card's Topic menu (static select); each option's value is `<ticket>|<topic>`.
TOPIC_MENU = "ticket_topic"
# The group card of alike questions (SPEC §10); each button carries the group number.
GROUP_ANSWER_ALL = "group_answer_all"
GROUP_SHOW_MEMBERS = "group_show_members"
GROUP_KEEP_ANSWERING = "group_keep_answering"
GROUP_STOP = "group_stop_sending"
GROUP_RESOLVE = "group_resolve"
GROUP_SEND_SUGGESTION = "group_send_suggestion"
GROUP_TAKE_OUT = "group_take_out"  # in the member list; the value is `group:ticket`
GROUP_MEMBERS_PAGE = "group_members_page"  # the value is `group:start`
GROUP_MEMBERS_MODAL = "group_members_modal"
GROUP_ANSWER_MODAL = "group_answer_modal"
GROUP_ANSWER_BLOCK = "group_answer"
GROUP_ANSWER_TEXT = "text"
GROUP_FOLLOWUP_BLOCK = "group_promise"
GROUP_FOLLOWUP = "promise"
GROUP_PREVIEW = "group_preview"
# A suggested canned answer on a ticket card: one click sends it through the checks.
SEND_SUGGESTION = "ticket_send_suggestion"
GROUP_CONFIRM_MODAL = "group_confirm_modal"
GROUP_APPROVE = "group_approve"  # a lead approves a trainee's group answer
GROUP_RETURN = "group_return"  # …or returns it, saying what should change
GROUP_RETURN_MODAL = "group_return_modal"
