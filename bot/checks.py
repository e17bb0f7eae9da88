"""The checks every answer to a customer passes before anything is sent. Pure: no I/O.

A failed check refuses with the reason and changes nothing; what only needs the agent's
confirmation (a link, a customer who did not mention us) comes back as a warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from twitter_text import extract_urls, parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from bot.errors import Refused
from bot.pii import PiiDetector
from bot.roster import Member
from bot.text import MAX_WEIGHTED_LENGTH, clean_text, excerpt
from store.models import (
    Customer,
    Message,
    ReplyKind,
    Role,
    Ticket,
    TicketSource,
    TicketState,
)

MAX_DM_LENGTH = 10_000  # X's limit for a direct message


def contact_key(text: str) -> str:
    """A phone number by its digits (+49 171 … and 0171 … alike), anything else lower-cased."""
    digits = re.sub(r"\D", "", text)
    if "@" not in text and len(digits) >= 6:
        return digits.removeprefix("49").removeprefix("0")
    return text.strip().lower()


@dataclass(frozen=True)
class Checked:
    """An answer that passed every check, with what still needs the agent's confirmation."""

    ticket_id: int
    body: str
    text: str
    in_reply_to: str | None
    warnings: list[str] = field(default_factory=list)
    kind: ReplyKind = ReplyKind.TWEET
    recipient: str | None = None


def held_by_other(ticket: Ticket) -> Refused:
    """The refusal for a ticket someone else holds."""
    return Refused(
        f"#{ticket.id} is held by <@{ticket.owner_slack_id}>. Ask them to hand it over "
        f"(`/handover {ticket.id} @you`), or ask a lead."
    )


def may_answer(ticket: Ticket, member: Member) -> Ticket:
    """Refused unless `member` may answer the ticket: it is theirs or nobody's."""
    if ticket.state == TicketState.RESOLVED and ticket.resolved_by != member.user_id:
        raise Refused(f"#{ticket.id} was resolved by <@{ticket.resolved_by}>; reopen it to answer.")
    if ticket.owner_slack_id not in (None, member.user_id):
        raise held_by_other(ticket)
    return ticket


class ReplyRules:
    """What answers are checked against: the signature, personal data, X's rules."""

    def __init__(
        self,
        *,
        signature_format: str,
        allow_unsummoned: bool = False,
        pii: PiiDetector | None = None,
        public_contacts: Sequence[str] = (),
        automaton: Member | None = None,
    ) -> None:
        self._signature_format = signature_format
        self._allow_unsummoned = allow_unsummoned
        self._pii = pii or PiiDetector()
        self._public_contacts = {contact_key(contact) for contact in public_contacts}
        # Who signs the automatic (out-of-hours) answer.
        self.automaton = automaton or Member("UBOT", Role.LEAD, "Bot", "Servicekanal")

    @property
    def allow_unsummoned(self) -> bool:
        """Whether X allows public replies to people who did not mention the account."""
        return self._allow_unsummoned

    def signature(self, member: Member) -> str:
        """The mark appended to every answer, e.g. ` ^AS`."""
        return self._signature_format.format(initials=member.initials)

    def public(
        self, *, ticket: Ticket, newest: Message | None, body: str, member: Member
    ) -> Checked:
        """Every check a public reply to `newest` must pass; refuses, or lists warnings."""
        body = clean_text(body).strip()
        if not body:
            raise Refused("The reply is empty: write what the customer should read.")
        may_answer(ticket, member)
        assert ticket.id is not None
        if newest is None or newest.external_id is None:
            raise Refused(f"#{ticket.id} has no customer tweet to reply to; use `/dm`.")
        signature = self.signature(member)
        text = body + signature
        parsed = parse_tweet(text)
        if parsed.weightedLength > MAX_WEIGHTED_LENGTH:
            over = parsed.weightedLength - MAX_WEIGHTED_LENGTH
            raise Refused(
                f"The reply is {over} character{'s' if over != 1 else ''} too long: "
                f"{parsed.weightedLength} of {MAX_WEIGHTED_LENGTH} as X counts them "
                f"(links count 23, emoji and CJK 2), including your signature “{signature}”."
            )
        if not parsed.valid:  # long enough, so X refuses a character
            named = ", ".join(
                f"U+{ord(c):04X} {unicodedata.name(c, '')}".strip()
                for c in sorted(set(text))
                if has_invalid_characters(c)
            )
            raise Refused(
                f"X does not accept these characters in a post: {named}. Nothing was sent."
            )
        findings = [f for f in self._pii.find(body) if not self._is_public_contact(f.text)]
        if findings:
            named = ", ".join(f"{f.label} “{excerpt(f.text, 60)}”" for f in findings)
            raise Refused(
                f"The reply contains personal data and would be public: {named}. "
                f"Nothing was sent. Send it as a DM instead (`/dm {ticket.id} …`)."
            )
        return Checked(
            ticket_id=ticket.id,
            body=body,
            text=text,
            in_reply_to=newest.external_id,
            warnings=self._warnings(body, keyword_hit=ticket.source == TicketSource.KEYWORD),
        )

    def direct(self, *, ticket: Ticket, customer: Customer, body: str, member: Member) -> Checked:
        """The checks of a DM: personal data is allowed there, the length is X's DM limit."""
        body = clean_text(body).strip()
        if not body:
            raise Refused("The DM is empty: write what the customer should read.")
        may_answer(ticket, member)
        assert ticket.id is not None
        text = body + self.signature(member)
        if len(text) > MAX_DM_LENGTH:
            raise Refused(
                f"The DM is {len(text) - MAX_DM_LENGTH} characters over X's {MAX_DM_LENGTH}."
            )
        return Checked(
            ticket_id=ticket.id,
            body=body,
            text=text,
            in_reply_to=None,
            kind=ReplyKind.DM,
            recipient=customer.x_user_id,
        )

    def _warnings(self, body: str, *, keyword_hit: bool) -> list[str]:
        warnings = []
        if extract_urls(body):
            warnings.append(
                "It contains a link: X charges much more for posts with links, and links "
                "count 23 characters."
            )
        if keyword_hit and not self._allow_unsummoned:
            warnings.append(
                "The customer did not mention us (keyword search): X refuses public API "
                "replies to people who did not mention or quote the account. "
                "`/dm` or answering by hand may be better."
            )
        return warnings

    def _is_public_contact(self, found: str) -> bool:
        """The team's own hotline or address (PUBLIC_CONTACT_DATA) may be given publicly."""
        return contact_key(found) in self._public_contacts
