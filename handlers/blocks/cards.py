"""The ticket card, and what the bot writes in its thread (customer messages, answers, notes)."""

from __future__ import annotations

from typing import Any

from bot.present import (
    TICKET_EVENT_TYPE,
    ActivityView,
    ApprovalView,
    CardView,
    CustomerMessageView,
    CustomerView,
    NoteView,
    ReplySentView,
    SlackMessage,
)
from handlers import ids
from handlers.blocks.assign import away_offer
from handlers.blocks.escalations import escalation
from handlers.blocks.groups import button as group_button
from handlers.blocks.groups import group_batch, group_card, group_reminder, suggestion_section
from handlers.blocks.text import (
    SOURCE_LABELS,
    count,
    escape_within,
    link,
    quote,
    section,
    slack_date,
)
from handlers.blocks.topics import moved_away, moved_here, topic_menu
from handlers.values import Suggested

STATE_LABELS = {
    "new": "🆕 New",
    "claimed": "🙋 Claimed",
    "waiting": "⏳ Waiting for customer",
    "followup": "📅 Follow-up promised",
    "resolved": "✅ Resolved",
}


def customer_line(customer: CustomerView) -> str:
    """`*Name* @handle · 1,234 followers · ✔️ verified · ⭐ VIP`."""
    parts = [
        f"*{escape_within(customer.name, 200)}*" if customer.name else "",
        link(customer.profile_url, f"@{customer.username}"),
    ]
    line = " ".join(part for part in parts if part)
    line += f" · {count(customer.followers, 'follower')}"
    if customer.verified:
        line += " · ✔️ verified"
    if customer.vip:
        line += " · ⭐ VIP"
    return line


def card_flags(card: CardView) -> list[str]:
    """The warnings a card carries, most urgent first."""
    flags = []
    if card.escalated:
        flags.append("🚨 escalated")
    if card.has_pii:
        flags.append("⚠️ personal data in tweet")
    if card.is_fail:
        flags.append("🔥 #fail")
    if card.out_of_hours:
        flags.append("🌙 out of hours")
    if card.source == "keyword":
        flags.append("🔎 found by keyword search: customer did not mention us")
    return flags


def status_line(card: CardView) -> str:
    """Who has the ticket and what state it is in."""
    state = STATE_LABELS.get(card.state, card.state)
    owner = f"<@{card.owner_slack_id}>" if card.owner_slack_id else "nobody yet"
    line = f"*Status:* {state} · *Owner:* {owner}"
    if card.followup_due is not None:
        if card.overdue:
            line += f" · ⏰ *follow-up overdue* since {slack_date(card.followup_due)}"
        else:
            line += f" · 📅 follow-up due {slack_date(card.followup_due)}"
    return line


def card_buttons(ticket_id: int, *, resolved: bool) -> dict[str, Any]:
    """Claim, Reply, Follow-up, Resolve, Escalate; each carries the ticket number."""
    value = str(ticket_id)

    def button(label: str, action_id: str, style: str | None = None) -> dict[str, Any]:
        return group_button(label, action_id, value, style)

    return {
        "type": "actions",
        "block_id": f"ticket_actions_{ticket_id}",
        "elements": [
            button("Claim", ids.CLAIM, None if resolved else "primary"),
            button("Reply", ids.REPLY),
            button("Follow-up", ids.FOLLOWUP),
            button("Reopen", ids.REOPEN) if resolved else button("Resolve", ids.RESOLVE),
            button("Escalate", ids.ESCALATE, "danger"),
        ],
    }


def revealable(text: str, reveal_id: int | None) -> dict[str, Any]:
    """A mrkdwn section; when it shows a masked DM, with the (recorded) Reveal button."""
    block = section(text)
    if reveal_id is not None:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Reveal"},
            "action_id": ids.REVEAL,
            "value": str(reveal_id),
            "confirm": {
                "title": {"type": "plain_text", "text": "Show personal data?"},
                "text": {
                    "type": "mrkdwn",
                    "text": "Only you will see it, and who revealed what is recorded.",
                },
                "confirm": {"type": "plain_text", "text": "Reveal"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        }
    return block


def text_section(text: str, reveal_id: int | None) -> dict[str, Any]:
    """Customer text as a quote; a masked DM gets a Reveal button."""
    return revealable(quote(text), reveal_id)


def privacy_buttons(card: CardView) -> dict[str, Any] | None:
    """On cards with personal data or found by keyword: move the conversation to a DM."""
    elements = []
    if card.has_pii and card.source != "dm":
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Ask to delete, continue by DM"},
                "action_id": ids.ASK_DELETE,
                "value": str(card.ticket_id),
            }
        )
    if (card.has_pii or card.source == "keyword") and card.state != "resolved":
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Answer by DM"},
                "action_id": ids.DM_BUTTON,
                "value": str(card.ticket_id),
            }
        )
    if not elements:
        return None
    return {"type": "actions", "block_id": f"privacy_{card.ticket_id}", "elements": elements}


def ticket_card(card: CardView) -> SlackMessage:
    """The card that opens a ticket's thread in the support channel."""
    header = f"*#{card.ticket_id}* · {STATE_LABELS.get(card.state, card.state)}"
    if card.url:
        header += f" · {link(card.url, 'open on X')}"
    context = [f"🏷️ *{escape_within(card.topic, 40)}*"] if card.topic else []
    context += [
        f"🕒 {slack_date(card.created_at)}",
        f"via {SOURCE_LABELS.get(card.source, card.source)}",
    ]
    if card.keyword_query:
        context.append(f"query `{escape_within(card.keyword_query, 200)}`")
    if card.earlier_tickets:
        earlier = count(card.earlier_tickets, "earlier ticket")
        if card.previous_ticket_id:
            earlier += f" (last: #{card.previous_ticket_id})"
        context.append(earlier)
    else:
        context.append("first ticket")
    if card.group_id is not None:
        context.append(f"🧩 in Sammelfrage {card.group_id}: answered with its group card")
    blocks: list[dict[str, Any]] = [
        section(header),
        section(customer_line(card.customer)),
        text_section(card.text, card.reveal_id),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
    ]
    flags = card_flags(card)
    if flags:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(flags)}]}
        )
    privacy = privacy_buttons(card)
    if privacy is not None:
        blocks.append(privacy)
    blocks.append(section(status_line(card)))
    actions = card_buttons(card.ticket_id, resolved=card.state == "resolved")
    menu = topic_menu(card)
    if menu is not None:
        actions["elements"].append(menu)
    blocks.append(actions)
    if card.suggestion is not None:
        suggested = Suggested(
            ticket=card.ticket_id, canned=card.suggestion.canned, group=card.suggestion.group_id
        )
        block = suggestion_section(card.suggestion)
        block["accessory"] = group_button(
            "Send suggestion", ids.SEND_SUGGESTION, suggested.encoded(), "primary"
        )
        blocks.append(block)
    return {
        "text": (
            f"#{card.ticket_id} from @{card.customer.username}: {escape_within(card.text, 150)}"
        ),
        "blocks": blocks,
        "metadata": {
            "event_type": TICKET_EVENT_TYPE,
            "event_payload": {"ticket_id": card.ticket_id, "tweet_id": card.tweet_id},
        },
    }


def customer_message(message: CustomerMessageView) -> SlackMessage:
    """A later customer message, posted in the card's thread."""
    lead = f"{'✉️ DM from' if message.direct else '↩️'} {customer_line(message.customer)}"
    if message.reopened:
        lead = f"🔁 *Ticket #{message.ticket_id} reopened* — the customer wrote again.\n" + lead
    context = [f"🕒 {slack_date(message.created_at)}"]
    if message.url:
        context.append(link(message.url, "open on X"))
    return {
        "text": (
            f"#{message.ticket_id} @{message.customer.username}: {escape_within(message.text, 150)}"
        ),
        "blocks": [
            section(lead),
            text_section(message.text, message.reveal_id),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
        ],
    }


def reply_sent(reply: ReplySentView) -> SlackMessage:
    """The record, in the thread, of an answer that went out to the customer."""
    how = "as a DM" if reply.kind == "dm" else "on X"
    lead = f"📤 <@{reply.agent_slack_id}> answered {how}"
    if reply.kind == "auto":
        lead = "🌙 Out of hours: the automatic answer went out on X"
    if reply.approved_by:
        lead += f" (approved by <@{reply.approved_by}>)"
    if reply.url:
        lead += f" · {link(reply.url, 'view on X')}"
    return {
        "text": f"#{reply.ticket_id} answered: {escape_within(reply.text, 150)}",
        "blocks": [
            section(lead),
            text_section(reply.text, reply.reveal_id),
        ],
    }


def approval(view: ApprovalView) -> SlackMessage:
    """A trainee's reply in the thread: Approve / Return for leads, or what became of it."""
    trainee, lead = f"<@{view.trainee_slack_id}>", f"<@{view.lead_slack_id}>"
    what = "DM" if view.kind == "dm" else "reply"
    heads = {
        "awaiting_approval": f"🎓 {trainee} wrote a {what}; a lead approves it before it goes out.",
        "sent": f"✅ {lead} approved {trainee}'s {what}; it is on its way.",
        "rejected": f"↩️ {lead} returned {trainee}'s {what}.",
        "failed": f"⚠️ {trainee}'s approved {what} could not be sent.",
    }
    blocks: list[dict[str, Any]] = [
        section(heads.get(view.state, view.state)),
        section(quote(view.text)),
    ]
    if view.note:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": escape_within(view.note, 500)}],
            }
        )
    if view.state == "awaiting_approval":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"approval_{view.reply_id}",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Approve & send"},
                        "style": "primary",
                        "action_id": ids.APPROVE,
                        "value": str(view.reply_id),
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Return with comment"},
                        "action_id": ids.REJECT,
                        "value": str(view.reply_id),
                    },
                ],
            }
        )
    return {"text": f"#{view.ticket_id}: a trainee's {what} ({view.state})", "blocks": blocks}


def note(view: NoteView) -> SlackMessage:
    """An internal note in the thread. Agents are trusted: their mentions stay mentions."""
    text = f"📝 Note from <@{view.author_slack_id}> (internal, never sent to X):\n{view.text}"
    return {
        "text": f"#{view.ticket_id} note: {view.text[:150]}",
        "blocks": [section(text)],
    }


def activity(view: ActivityView) -> SlackMessage:
    """Hand-over, release, resolution, reopening: one line in the thread."""
    actor = f"<@{view.actor}>" if view.actor else "Servicekanal"
    target = f"<@{view.target}>" if view.target else "nobody"
    due = slack_date(view.due) if view.due else "?"
    owner_or_channel = target if view.target else "<!here>"
    minutes = "?" if view.minutes is None else view.minutes
    lines = {
        "handover": f"🔁 {actor} handed #{view.ticket_id} to {target}.",
        "released": f"↩️ {actor} gave #{view.ticket_id} back to the queue.",
        "resolved": f"✅ {actor} resolved #{view.ticket_id}.",
        "reopened": f"🔓 {actor} reopened #{view.ticket_id}.",
        "reply_failed": f"⚠️ {actor}, your reply to #{view.ticket_id} could not be sent.",
        "reply_rejected": f"↩️ {target}, {actor} returned your reply to #{view.ticket_id}:",
        "followup": f"📅 {actor} promised the customer a follow-up by {due} (owner {target}).",
        "followup_cancelled": f"🗑️ {actor} cancelled the follow-up of #{view.ticket_id}.",
        "followup_warning": f"⏳ {target}, the follow-up of #{view.ticket_id} is due {due}.",
        "followup_due": f"⏰ {target}, the follow-up of #{view.ticket_id} is due now ({due}).",
        "unclaimed": (
            f"🔔 #{view.ticket_id} has waited {minutes} business minutes; nobody has claimed it."
        ),
        "assigned": (
            f"👤 {target}, #{view.ticket_id} is yours: "
            + (
                f"{actor} re-assigned it to you."
                if view.actor
                else "Servicekanal assigned it to you."
            )
        ),
        "sla_warning": (
            f"⌛ {owner_or_channel}, #{view.ticket_id} has {minutes} business minutes "
            "left for its first answer."
        ),
    }
    note = view.note
    text = lines.get(view.kind, f"#{view.ticket_id}: {view.kind}")
    if note and view.kind == "handover":
        text += "\n" + "\n".join(f">{line}" for line in note.splitlines())
    elif note:
        text += f" {note}"
    return {
        "text": text[:300],
        "blocks": [section(text)],
    }


class BlockKitPresenter:
    """The `bot.present.Presenter` that the services use, made of the builders."""

    ticket_card = staticmethod(ticket_card)
    customer_message = staticmethod(customer_message)
    reply_sent = staticmethod(reply_sent)
    note = staticmethod(note)
    activity = staticmethod(activity)
    escalation = staticmethod(escalation)
    approval = staticmethod(approval)
    away_offer = staticmethod(away_offer)
    moved_here = staticmethod(moved_here)
    moved_away = staticmethod(moved_away)
    group_card = staticmethod(group_card)
    group_batch = staticmethod(group_batch)
    group_reminder = staticmethod(group_reminder)
