"""Slack ids of our interactive parts, in one place (buttons, modals, shortcuts)."""

from __future__ import annotations

# Buttons on the ticket card; each carries the ticket number as its value.
CLAIM = "ticket_claim"
REPLY = "ticket_reply"
FOLLOWUP = "ticket_followup"
RESOLVE = "ticket_resolve"
ESCALATE = "ticket_escalate"
CARD_ACTIONS = (CLAIM, REPLY, FOLLOWUP, RESOLVE, ESCALATE)

# Message shortcut: answer the customer from any message of a ticket's thread.
REPLY_SHORTCUT = "reply_from_thread"
