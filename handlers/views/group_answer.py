"""Answer all: the group card's button, the answer's preview, and sending it."""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.group_answers import answer_modal, confirm_modal, return_modal
from handlers.commands.reply import answer
from handlers.context import Payload, input_value, number_on, request_key, view_values
from handlers.values import NOT_OUR_MODAL, GroupDraft, Suggested, metadata_number, value_on


def handle_answer_all(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Open the Answer all modal (trigger ids live three seconds, so this comes first)."""
    ack()
    group_id = number_on(action)
    page = services.groups.members(group_id=group_id)
    example = page.items[0].text if page.items else ""
    view = answer_modal(group_id, page.total, example)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_group_suggestion(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Send suggestion on a group card: Answer all, with the suggested answer written in."""
    ack()
    group_id = number_on(action)
    page = services.groups.members(group_id=group_id)
    example = page.items[0].text if page.items else ""
    suggested = services.groups.suggestion(group_id=group_id)
    view = answer_modal(group_id, page.total, example, body=suggested.text if suggested else "")
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_ticket_suggestion(
    ack: Ack, body: Payload, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Send suggestion on a ticket card: the answer, filled in, through every check of a reply."""
    ack()
    suggested = value_on(action, Suggested)
    text = services.group_answers.suggested_text(
        ticket_id=suggested.ticket, canned=suggested.canned, group=suggested.group, member=member
    )
    result = services.replies.send(
        ticket_id=suggested.ticket,
        body=text,
        member=member,
        canned_name=suggested.canned,
        request_key=request_key(body),
    )
    answer(result, respond, canned=suggested.canned, body=text, replace=False)


def _promise(view: Payload) -> str | None:
    choice = (view_values(view).get(ids.GROUP_FOLLOWUP_BLOCK) or {}).get(ids.GROUP_FOLLOWUP) or {}
    selected = choice.get("selected_option") or {}
    return str(selected["value"]) if selected.get("value") else None


def handle_answer_preview(ack: Ack, view: Payload, services: Services, member: Member) -> None:
    """Check the answer for every member; show previews and counts, or what fails."""
    group_id = metadata_number(view, "group")
    text = input_value(view, ids.GROUP_ANSWER_BLOCK, ids.GROUP_ANSWER_TEXT)
    try:
        plan = services.group_answers.plan(group_id=group_id, body=text, member=member)
    except Refused as refusal:
        ack(response_action="errors", errors={ids.GROUP_ANSWER_BLOCK: refusal.user_message[:300]})
        return
    ack(response_action="push", view=confirm_modal(plan, _promise(view)))


def handle_answer_send(
    ack: Ack, body: Payload, view: Payload, services: Services, member: Member
) -> None:
    """Queue the answer for every member (a trainee's waits for a lead); the modals close."""
    try:
        draft = GroupDraft.model_validate_json(str(view.get("private_metadata") or ""))
    except ValueError:
        raise Refused(NOT_OUR_MODAL) from None
    ack(response_action="clear")
    due = services.followups.parse(draft.promise)[0] if draft.promise else None
    services.group_answers.send(
        group_id=draft.group,
        body=draft.body,
        member=member,
        follow_up=due,
        request_key=request_key(body),
    )


def handle_keep_answering(ack: Ack, action: Payload, services: Services, member: Member) -> None:
    """Switch Keep answering new members on or off; the card shows which."""
    ack()
    services.group_answers.keep_answering(group_id=number_on(action), member=member)


def handle_stop_sending(ack: Ack, action: Payload, services: Services, member: Member) -> None:
    """Cancel what of the group answer has not gone out yet; the card shows the count."""
    ack()
    services.group_answers.stop(group_id=number_on(action), member=member)


def handle_approve_group(ack: Ack, action: Payload, services: Services, member: Member) -> None:
    """A lead approves a trainee's group answer: it goes to the X outbox."""
    ack()
    services.group_answers.approve(group_id=number_on(action), lead=member)


def handle_return_group(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """The Return button: ask the lead what should change (leads only, as for Approve)."""
    ack()
    group_id = number_on(action)
    services.group_answers.may_return(group_id=group_id, lead=member)
    client.views_open(trigger_id=body["trigger_id"], view=return_modal(group_id))


def handle_return_submission(ack: Ack, view: Payload, services: Services, member: Member) -> None:
    """Return the group answer with the lead's words; nothing goes to X."""
    group_id = metadata_number(view, "group")
    note = input_value(view, ids.REJECT_NOTE_BLOCK, ids.REJECT_NOTE)
    services.group_answers.return_answer(group_id=group_id, lead=member, note=note)
    ack()
