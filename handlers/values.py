"""What the bot's buttons and modals carry: written by the blocks, read back by the listeners.

A value the bot never wrote (not JSON, keys missing or of the wrong kind, a time without
its zone) is refused with the same clear answer as any button (or modal) that is not
ours, before anything is done with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.errors import Refused

NOT_OURS = "This button does not belong to a ticket; use the buttons on the card."
NOT_OUR_MODAL = "This form does not belong to a ticket; open it again from the card."
# Within a BIGINT, as `number_on` allows.
TicketNumber = Annotated[int, Field(ge=0, lt=10**18)]
# A modal's private_metadata: the numbers the bot put there (ticket, reply, version).
_METADATA = TypeAdapter(dict[str, TicketNumber], config=ConfigDict(strict=True))


class ButtonValue(BaseModel):
    """A JSON button value: exactly the fields the bot writes, of the kinds it writes."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def encoded(self) -> str:
        """The value as the button carries it."""
        return self.model_dump_json()


class ReplyDraft(ButtonValue):
    """ "Send anyway" after `/reply` warned: the reply to send once more through every check."""

    ticket: TicketNumber
    body: str
    canned: Annotated[str, Field(max_length=64)] | None = None


class PromiseOffer(ButtonValue):
    """ "Record follow-up" after a reply that promised a time."""

    ticket: TicketNumber
    due: AwareDatetime


Value = TypeVar("Value", bound=ButtonValue)


def value_on(action: Mapping[str, Any], kind: type[Value]) -> Value:
    """The value a button carries, read as `kind`; refused when the bot did not write it."""
    try:
        return kind.model_validate_json(str(action.get("value") or ""))
    except ValidationError:
        raise Refused(NOT_OURS) from None


def metadata_number(view: Mapping[str, Any], key: str) -> int:
    """A number the bot put into a modal's private_metadata; refused when it did not."""
    try:
        numbers = _METADATA.validate_json(str(view.get("private_metadata") or ""))
    except ValidationError:
        raise Refused(NOT_OUR_MODAL) from None
    if key not in numbers:
        raise Refused(NOT_OUR_MODAL)
    return numbers[key]


class GroupDraft(ButtonValue):
    """A group answer between its preview and Send: the confirm modal's private_metadata."""

    group: TicketNumber
    body: Annotated[str, Field(max_length=3000)]
    promise: Annotated[str, Field(max_length=32)] | None = None


class Suggested(ButtonValue):
    """Send suggestion on a ticket card: the canned answer or the group whose answer it is."""

    ticket: TicketNumber
    canned: Annotated[str, Field(max_length=64)] | None = None
    group: TicketNumber | None = None
