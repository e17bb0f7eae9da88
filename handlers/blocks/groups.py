"""The group card of alike questions, the member lists in its thread, its member list modal."""

from __future__ import annotations

from typing import Any

from bot.present import (
    GROUP_EVENT_TYPE,
    GroupBatchView,
    GroupCardView,
    GroupMemberView,
    GroupReminderView,
    Page,
    SlackMessage,
    Suggestion,
)
from handlers import ids
from handlers.blocks.modals import plain
from handlers.blocks.text import (
    SOURCE_LABELS,
    count,
    escape_within,
    link,
    quote,
    section,
    slack_date,
)

# One member's line: the tweet cut so that a batch of 20 stays far inside a section's limit.
MEMBER_TEXT_LIMIT = 600


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button carrying the group (or member) it acts on."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def member_line(member: GroupMemberView) -> str:
    """`#12 · *Name* @handle (mention): > text`."""
    name = f"*{escape_within(member.customer.name, 100)}* " if member.customer.name else ""
    who = f"{name}{link(member.customer.profile_url, '@' + member.customer.username)}"
    via = SOURCE_LABELS.get(member.source, member.source)
    head = f"*#{member.ticket_id}* · {who} · {via}"
    if member.url:
        head += f" · {link(member.url, 'open on X')}"
    if member.taken_out:
        head = f"~{head}~ _taken out: it has its own card now_"
    if member.answered:
        head += " · ✅ answered"
    return head + "\n" + quote(member.text, MEMBER_TEXT_LIMIT)


def suggestion_section(suggestion: Suggestion) -> dict[str, Any]:
    """`💡 Suggested (canned answer :name):` and the answer's text."""
    return section(f"💡 *Suggested* ({suggestion.source}):\n{quote(suggestion.text, 600)}")


def progress_line(group: GroupCardView) -> str | None:
    """`212 of 500 answered, about 40 minutes left`, once an answer is on its way."""
    progress = group.progress
    if group.awaiting_approval:
        return "⏳ The group answer waits for a lead's approval."
    if not progress.total:
        return None
    line = f"📤 *{progress.sent:,} of {progress.total:,} answered*"
    if progress.waiting and group.minutes_left is not None:
        line += f", about {count(group.minutes_left, 'minute')} left"
    if progress.failed:
        line += f" · {progress.failed:,} failed"
    if progress.cancelled:
        line += f" · {progress.cancelled:,} not sent (stopped, or answered one by one)"
    return line


def group_card(group: GroupCardView) -> SlackMessage:
    """The one card of a group of alike questions; its thread lists later members."""
    value = str(group.group_id)
    asks = "customer asks" if group.size == 1 else "customers ask"
    state = " · ✅ resolved" if group.resolved else ""
    blocks: list[dict[str, Any]] = [
        section(f"🧩 *Sammelfrage {group.group_id}: {group.size:,} {asks} …*{state}")
    ]
    for example in group.examples:
        blocks.append(section(member_line(example)))
    if group.words:
        shared = ", ".join(f"`{escape_within(word, 40)}`" for word in group.words)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Shared words: {shared}"}]}
        )
    if group.answer:
        by = f" by <@{group.answer_by}>" if group.answer_by else ""
        blocks.append(section(f"*Group answer*{by}:\n{quote(group.answer, 1000)}"))
    progress = progress_line(group)
    if progress:
        blocks.append(section(progress))
    if group.followup_due is not None:
        late = "⏰ *follow-up overdue* since" if group.followup_overdue else "📅 follow-up due"
        blocks.append(section(f"{late} {slack_date(group.followup_due)} (one for the group)"))
    if group.suggestion and not group.answer:
        blocks.append(suggestion_section(group.suggestion))
    elements = []
    if not group.resolved:
        if not group.answer:
            elements.append(button("Answer all", ids.GROUP_ANSWER_ALL, value, "primary"))
            if group.suggestion:
                elements.append(button("Send suggestion", ids.GROUP_SEND_SUGGESTION, value))
        elif group.awaiting_approval:
            elements.append(button("Approve group answer", ids.GROUP_APPROVE, value, "primary"))
            elements.append(button("Return to trainee", ids.GROUP_RETURN, value))
        elements.append(button("Show members", ids.GROUP_SHOW_MEMBERS, value))
        if group.answer:
            on = "✅ Keep answering new members" if group.keep_answering else None
            label = on or "Keep answering new members"
            elements.append(button(label, ids.GROUP_KEEP_ANSWERING, value))
            if group.progress.waiting or group.awaiting_approval:
                elements.append(button("Stop sending", ids.GROUP_STOP, value, "danger"))
        elements.append(button("Resolve group", ids.GROUP_RESOLVE, value))
    else:
        elements.append(button("Show members", ids.GROUP_SHOW_MEMBERS, value))
    blocks.append({"type": "actions", "block_id": f"group_actions_{value}", "elements": elements})
    first = group.examples[0].text if group.examples else ""
    return {
        "text": f"Sammelfrage {group.group_id}: {group.size:,} {asks}: {escape_within(first, 150)}",
        "blocks": blocks,
        "metadata": {
            "event_type": GROUP_EVENT_TYPE,
            "event_payload": {"group_id": group.group_id, "size": group.size},
        },
    }


def group_reminder(reminder: GroupReminderView) -> SlackMessage:
    """The one reminder of a follow-up promised to the whole group, shown in the channel."""
    who = f"<@{reminder.author_slack_id}> " if reminder.author_slack_id else ""
    text = (
        f"⏰ {who}*Follow-up due* for Sammelfrage {reminder.group_id}: the group answer "
        f"promised news by {slack_date(reminder.due)} to {count(reminder.members, 'customer')}: "
        "one reminder for all of them."
    )
    return {"text": text[:3000], "blocks": [section(text)], "reply_broadcast": True}


def group_batch(batch: GroupBatchView) -> SlackMessage:
    """Members that joined the group, one section each, in the group card's thread."""
    numbers = ", ".join(f"#{m.ticket_id}" for m in batch.members)
    joined = "customer joined" if len(batch.members) == 1 else "customers joined"
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"➕ {len(batch.members)} {joined} the Sammelfrage"}
            ],
        }
    ]
    blocks += [section(member_line(member)) for member in batch.members]
    return {
        "text": f"Sammelfrage {batch.group_id}: {numbers}"[:3000],
        "blocks": blocks,
        "metadata": {
            "event_type": GROUP_EVENT_TYPE + "_members",
            "event_payload": {"group_id": batch.group_id, "batch": batch.batch},
        },
    }


def members_modal(group_id: int, page: Page[GroupMemberView]) -> dict[str, Any]:
    """The member list: a page of members, each with Take out, and paging buttons."""
    blocks: list[dict[str, Any]] = [
        section(
            f"*Sammelfrage {group_id}* · {page.total:,} members · "
            f"{page.start + 1}–{page.start + len(page.items)} shown"
        )
    ]
    for member in page.items:
        block = section(member_line(member))
        block["accessory"] = button(
            "Take out", ids.GROUP_TAKE_OUT, f"{group_id}:{member.ticket_id}"
        )
        blocks.append(block)
    paging = []
    if page.start > 0:
        paging.append(
            button(
                "Previous", ids.GROUP_MEMBERS_PAGE, f"{group_id}:{max(0, page.start - page.size)}"
            )
        )
    if page.after:
        paging.append(
            button("Next", ids.GROUP_MEMBERS_PAGE, f"{group_id}:{page.start + page.size}")
        )
    if paging:
        blocks.append({"type": "actions", "block_id": "paging", "elements": paging})
    return {
        "type": "modal",
        "callback_id": ids.GROUP_MEMBERS_MODAL,
        "private_metadata": str(group_id),
        "title": plain(f"Sammelfrage {group_id}", 24),
        "close": plain("Close"),
        "blocks": blocks,
    }
