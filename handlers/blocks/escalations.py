"""A page about an escalation: for the on-call person's DM and the escalation channel."""

from __future__ import annotations

from typing import Any

from bot.present import EscalationView, SlackMessage
from handlers.blocks.text import escape_within, link, quote, section, slack_date

ESCALATION_LABELS = {
    "manual": "escalated by hand",
    "followup": "a promise is overdue",
    "sla": "first-response SLA missed",
    "vip": "VIP customer",
    "spike": "spike",
    "x_credits": "X credits used up",
}


def escalation(view: EscalationView) -> SlackMessage:
    """A page: for the on-call person's DM and the escalation channel."""
    what = ESCALATION_LABELS.get(view.kind, view.kind)
    head = f"🚨 *Escalation: {what}*"
    if view.ticket_id is not None:
        head += f" · *#{view.ticket_id}*"
    if view.customer_handle:
        head += f" · {link(f'https://x.com/{view.customer_handle}', '@' + view.customer_handle)}"
    lines = [head, escape_within(view.reason, 1500)]
    if view.actor:
        lines.append(f"Raised by <@{view.actor}>.")
    lines.append(
        f"On call: <@{view.oncall_slack_id}>"
        if view.oncall_slack_id
        else "⚠️ Nobody is on call (`/oncall @someone`)."
    )
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    if view.examples:
        examples = "\n".join(quote(example, 400) for example in view.examples)
        blocks.append(section(f"*Examples*\n{examples}"))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"🕒 {slack_date(view.at)}"}]}
    )
    return {
        "text": f"Escalation: {what}" + (f" #{view.ticket_id}" if view.ticket_id else ""),
        "blocks": blocks,
    }
