"""Parsing what people type: every malformed input gets a usage line, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import Usage, slack_user, ticket_and_text, ticket_number, words, x_handle
from bot.errors import Refused
from bot.roster import LEAD_ACTIONS, LEAD_VIEWS, Member, allows, required_role
from bot.text import initials_of
from handlers import ids
from store.models import Role

USAGE = Usage("/claim", "<ticket>")


@pytest.mark.parametrize(
    ("token", "number"), [("12", 12), ("#12", 12), (" 7 ", 7), ("#000123", 123)]
)
def test_ticket_numbers_are_read_with_or_without_hash(token: str, number: int) -> None:
    assert ticket_number(token, USAGE) == number


@pytest.mark.parametrize("token", ["", "#", "twelve", "12a", "-1", "1.5", "#1 2", "١٢", "1" * 10])
def test_anything_else_is_refused_with_the_usage_line(token: str) -> None:
    with pytest.raises(Refused, match=r"Usage: `/claim <ticket>`"):
        ticket_number(token, USAGE)


@given(st.text())
def test_no_text_crashes_the_ticket_parser(text: str) -> None:
    outcome: int | str
    try:
        outcome = ticket_number(text, USAGE)
    except Refused as exc:
        outcome = exc.user_message
    assert (isinstance(outcome, int) and outcome >= 0) or "Usage:" in str(outcome)


@given(st.text(), st.integers(min_value=1, max_value=5))
def test_words_always_gives_the_asked_number_of_parts(text: str, count: int) -> None:
    parts = words(text, count)
    assert len(parts) == count
    assert all(isinstance(p, str) for p in parts)


def test_a_ticket_and_text_keep_the_text_as_typed_after_the_ticket() -> None:
    dm = Usage("/dm", "<ticket> <text>")

    assert ticket_and_text("#12 Hallo Karl,\n  bitte DM", dm, empty="") == (
        12,
        "Hallo Karl,\n  bitte DM",
    )
    with pytest.raises(Refused, match=r"^The DM is empty\. Usage: `/dm <ticket> <text>`$"):
        ticket_and_text("12   ", dm, empty="The DM is empty.")
    with pytest.raises(Refused, match=r"^Which ticket\? Usage"):
        ticket_and_text("", dm, empty="The DM is empty.")


def test_a_slack_escaped_mention_is_a_user_id() -> None:
    assert slack_user("<@U0BEN|ben>", USAGE) == "U0BEN"
    assert slack_user("<@W0ENTERPRISE>", USAGE) == "W0ENTERPRISE"
    for token in ("@ben", "ben", "<#C123|general>", "<!channel>", ""):
        with pytest.raises(Refused):
            slack_user(token, USAGE)


@pytest.mark.parametrize(
    ("token", "handle"),
    [("@anna_k", "anna_k"), ("anna_k", "anna_k"), ("@a-b", None), ("@" + "x" * 16, None)],
)
def test_x_handles(token: str, handle: str | None) -> None:
    assert x_handle(token) == handle


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Anna Schmidt", "AS"),
        ("Jean-Luc Picard", "JP"),
        ("anna", "AN"),
        ("Ömer Çelik", "ÖÇ"),
        ("  ", "XX"),
    ],
)
def test_initials_come_from_the_real_name(name: str, initials: str) -> None:
    assert initials_of(name) == initials


@pytest.mark.parametrize(
    ("kind", "name", "text", "needed"),
    [
        ("command", "/claim", "12", Role.TRAINEE),
        ("command", "/stats", "", Role.LEAD),
        ("command", "/team", "list", Role.TRAINEE),
        ("command", "/team", "add <@U1> agent", Role.LEAD),
        ("command", "/canned", "remove x", Role.LEAD),
        ("command", "/canned", "", Role.TRAINEE),
        ("command", "/oncall", "", Role.TRAINEE),
        ("command", "/oncall", "<@U1>", Role.LEAD),
        ("action", "ticket_claim", "", Role.TRAINEE),
        ("view", "reply_modal", "", Role.TRAINEE),
    ],
)
def test_who_may_do_what_is_decided_in_one_table(
    kind: str, name: str, text: str, needed: Role
) -> None:
    assert required_role(kind, name, text) == needed


def test_roles_rank_trainee_agent_lead() -> None:
    lead, agent, trainee = (
        Member("U", role, "XX", "X") for role in (Role.LEAD, Role.AGENT, Role.TRAINEE)
    )
    assert allows(lead, Role.LEAD) and allows(lead, Role.TRAINEE)
    assert allows(agent, Role.AGENT) and not allows(agent, Role.LEAD)
    assert allows(trainee, Role.TRAINEE) and not allows(trainee, Role.AGENT)


def test_the_lead_only_ids_are_the_approval_and_away_offer_buttons_and_the_modal() -> None:
    # bot/ cannot import handlers/, so the roster names the ids itself; they must agree.
    assert {
        ids.APPROVE,
        ids.REJECT,
        ids.GROUP_APPROVE,
        ids.AWAY_REASSIGN,
        ids.AWAY_KEEP,
    } == LEAD_ACTIONS
    assert {ids.REJECT_MODAL} == LEAD_VIEWS
