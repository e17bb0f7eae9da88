"""handlers/commands/: every command typed wrong, or with text too long to go anywhere.

Each is refused with one ephemeral line (what is wrong, then the usage line once), only
to the caller, and changes nothing (moved from tests/e2e/test_bad_input.py, issue 11).
"""

from __future__ import annotations

from typing import Any

import pytest

from standins.slack_api import ANNA, BEN, EVE, LEAD
from tests.e2e.test_working_a_ticket import said
from tests.handlers.conftest import Desk

BIG = "Leitung gestört " * 3125  # 50,000 characters

HUGE = "99999999999999999999"


def typed(name: str, text: str, answer: str, user: str = ANNA, **marks: Any) -> Any:
    return pytest.param(user, name, text, answer, id=f"{name} {text!r}", **marks)


TYPED_WRONG = [
    typed("/claim", "", "Which ticket? Usage: `/claim <ticket>`"),
    typed("/claim", " \t\n", "Which ticket? Usage: `/claim <ticket>`"),
    typed("/claim", "§$%&", "“§$%&” is not a ticket number. Usage: `/claim <ticket>`"),
    typed("/claim", "#-1", "“#-1” is not a ticket number."),
    typed("/claim", HUGE, f"“{HUGE}” is not a ticket number."),
    typed("/claim", "#999999999", "There is no ticket #999999999."),
    typed("/claim", "1.0", "“1.0” is not a ticket number."),
    typed("/claim", "١", "“١” is not a ticket number."),  # an Arabic-Indic one
    typed("/claim", "1\u200b", "is not a ticket number."),  # a pasted zero-width space
    typed("/claim", "claim 1", "Usage: `/claim <ticket>`"),
    typed("/claim", "1 2", "Usage: `/claim <ticket>`"),
    typed("/release", "", "Which ticket? Usage: `/release <ticket>`"),
    typed("/release", "xyz", "“xyz” is not a ticket number."),
    typed("/release", "#-1", "“#-1” is not a ticket number."),
    typed("/release", HUGE, f"“{HUGE}” is not a ticket number."),
    typed("/release", "1 please", "Usage: `/release <ticket>`"),
    typed("/handover", "", "Which ticket? Usage: `/handover <ticket> @colleague [note]`"),
    typed("/handover", "1", "Who? Usage: `/handover"),
    typed("/handover", f"<@{BEN}|ben> 1", f"“<@{BEN}|ben>” is not a ticket number."),
    typed("/handover", f"#-1 <@{BEN}|ben>", "“#-1” is not a ticket number."),
    typed("/handover", f"{HUGE} <@{BEN}|ben>", f"“{HUGE}” is not a ticket number."),
    typed("/handover", "1 @ben", "“@ben” is not a person; mention them with @."),
    typed("/handover", "1 <!channel>", "“<!channel>” is not a person"),
    typed("/handover", f"1 <@{BEN}|ben", f"“<@{BEN}|ben” is not a person"),
    typed("/handover", "1 <@U0NOBODY|x>", "<@U0NOBODY> is not on the team"),
    typed("/reply", "", "Which ticket? Usage: `/reply"),
    typed("/reply", "hallo 1", "“hallo” is not a ticket number."),
    typed("/reply", "#-1 Hallo", "“#-1” is not a ticket number."),
    typed("/reply", f"{HUGE} Hallo", f"“{HUGE}” is not a ticket number."),
    typed("/reply", "1", "The reply is empty."),
    typed("/reply", "1 :", "There is no canned answer `:`"),
    typed("/reply", "1 :nope", "There is no canned answer `:nope`"),
    typed("/dm", "", "Which ticket? Usage: `/dm <ticket> <text>`"),
    typed("/dm", "hallo 1", "“hallo” is not a ticket number."),
    typed("/dm", "#-1 Hallo", "“#-1” is not a ticket number."),
    typed("/dm", f"{HUGE} Hallo", f"“{HUGE}” is not a ticket number."),
    typed("/dm", "1", "The DM is empty."),
    typed("/note", "", "The note is empty. Usage: `/note <ticket> <text>`"),
    typed("/note", "1   ", "The note is empty."),
    typed("/note", "Kunde ruft an 1", "“Kunde” is not a ticket number."),
    typed("/note", "#-1 Notiz", "“#-1” is not a ticket number."),
    typed("/note", f"{HUGE} Notiz", f"“{HUGE}” is not a ticket number."),
    typed("/followup", "", "Which ticket? Usage: `/followup"),
    typed("/followup", "1", "When? Usage: `/followup"),
    typed("/followup", "tomorrow 1", "“tomorrow” is not a ticket number."),
    typed("/followup", "#-1 2h", "“#-1” is not a ticket number."),
    typed("/followup", f"{HUGE} 2h", f"“{HUGE}” is not a ticket number."),
    typed("/followup", "1 banana", "“banana” is not a time I understand."),
    typed("/followup", "1 yesterday", "is in the past."),
    typed("/followup", "1 -5m", "is in the past."),
    typed("/followup", "1 0m", "is in the past."),
    typed("/followup", f"1 {HUGE}m", f"“{HUGE}m” is not a time I understand."),
    typed("/followup", "1 in 3000 years", "more than 60 days ahead"),
    typed("/followup", "1 Freitag", "has no time of day"),
    typed("/followup", "list 1", "“list” is not a ticket number."),
    typed("/followup", "1 cancel", "#1 has no open follow-up."),
    typed("/resolve", "", "Which ticket? Usage: `/resolve <ticket>`"),
    typed("/resolve", "x", "“x” is not a ticket number."),
    typed("/resolve", "#-1", "“#-1” is not a ticket number."),
    typed("/resolve", HUGE, f"“{HUGE}” is not a ticket number."),
    typed("/resolve", "1 2", "Usage: `/resolve <ticket>`"),
    typed("/escalate", "", "Which ticket? Usage: `/escalate <ticket> <reason>`"),
    typed("/escalate", "1", "Say why. Usage: `/escalate"),
    typed("/escalate", "Großstörung 1", "“Großstörung” is not a ticket number."),
    typed("/escalate", "#-1 Großstörung", "“#-1” is not a ticket number."),
    typed("/escalate", "999 Großstörung", "There is no ticket #999."),
    typed("/escalate", f"{HUGE} Großstörung", f"“{HUGE}” is not a ticket number."),
    typed("/history", "", "Usage: `/history <@handle | ticket>`"),
    typed("/history", "#-1", "“#-1” is neither an @handle nor a ticket."),
    typed("/history", HUGE, f"“{HUGE}” is not a ticket number."),
    typed("/history", "#999999999", "There is no ticket #999999999."),
    typed("/history", "@@@", "“@@@” is neither an @handle nor a ticket."),
    typed("/history", "@" + "k" * 16, "is neither an @handle nor a ticket."),
    typed("/history", "@karl_k\u202e", "is neither an @handle nor a ticket."),
    typed("/history", "karl_k 1", "Usage: `/history <@handle | ticket>`"),
    typed("/canned", "frobnicate", "Usage: `/canned list | add <name> <text> | remove <name>`"),
    typed("/canned", "add", "Usage: `/canned", LEAD),
    typed("/canned", "add nurname", "Usage: `/canned", LEAD),
    typed("/canned", "remove", "Usage: `/canned", LEAD),
    typed("/canned", "remove a b", "Usage: `/canned", LEAD),
    typed("/canned", "remove nope", "There is no canned answer `:nope`.", LEAD),
    typed("/canned", "list extra", "Usage: `/canned"),
    typed("/canned", "add lang " + "x" * 281, "`:lang` is 281 characters as X counts them", LEAD),
    typed("/oncall", "jemand", "“jemand” is not a person; mention them with @.", LEAD),
    typed("/oncall", "@ben", "“@ben” is not a person", LEAD),
    typed("/oncall", "<!channel>", "“<!channel>” is not a person", LEAD),
    typed("/oncall", f"<@{BEN}|ben> ab jetzt", "Usage: `/oncall [@colleague]`", LEAD),
    typed("/oncall", f"<@{EVE}|eve>", f"<@{EVE}> is not on the team", LEAD),
    typed("/team", "frobnicate", "Usage: `/team list | add @colleague", LEAD),
    typed("/team", "list extra", "Usage: `/team", LEAD),
    typed("/team", "add", "Usage: `/team", LEAD),
    typed("/team", f"add <@{EVE}|eve>", "Usage: `/team", LEAD),
    typed("/team", f"add agent <@{EVE}|eve>", "“agent” is not a person", LEAD),
    typed("/team", f"add <@{EVE}|eve> agent EO noch was", "Usage: `/team", LEAD),
    typed("/team", f"add <@{EVE}|eve> agent {HUGE}", "are not initials", LEAD),
    typed("/team", "remove", "Who? Usage: `/team", LEAD),
    typed("/team", f"remove <@{BEN}|ben> sofort", "Usage: `/team", LEAD),
    typed("/team", "remove <@U0NOBODY|x>", "<@U0NOBODY> is not on the team.", LEAD),
    typed("/stats", "yesterday", "“yesterday” is not a period: use today, 7d or 30d.", LEAD),
    typed("/stats", "-1d", "“-1d” is not a period", LEAD),
    typed("/stats", f"{HUGE}d", f"“{HUGE[:19]}…” is not a period", LEAD),
    typed(
        "/stats",
        "7d extra",
        "Usage: `/stats [today | 7d | 30d]`",
        LEAD,
    ),
]


TOO_BIG = [
    pytest.param(ANNA, "/reply", f"1 {BIG}", "too long: 50003 of 280 as X counts them", id="reply"),
    pytest.param(ANNA, "/dm", f"1 {BIG}", "The DM is 40003 characters over X's 10000.", id="dm"),
    pytest.param(ANNA, "/claim", "9" * 50_000, "is not a ticket number.", id="claim"),
    pytest.param(
        LEAD, "/canned", f"add lang {BIG}", "as X counts them; a reply holds 280", id="canned"
    ),
    pytest.param(
        ANNA, "/history", "@" + "k" * 50_000, "is neither an @handle nor a ticket.", id="history"
    ),
    pytest.param(
        LEAD, "/team", f"add <@{EVE}|eve> agent {'A' * 50_000}", "are not initials", id="team"
    ),
    # Issue 10: these quoted whole what they were given.
    pytest.param(
        ANNA, "/followup", "1 " + "A" * 200_000, "is not a time I understand.", id="followup"
    ),
    pytest.param(
        ANNA, "/handover", f"1 <@U{'A' * 50_000}>", "is not a person", id="handover-mention"
    ),
    pytest.param(LEAD, "/oncall", f"<@U{'A' * 50_000}>", "is not a person", id="oncall-mention"),
]


def only_to_the_caller(answer: list[dict[str, Any]]) -> bool:
    return bool(answer) and all(r.get("response_type", "ephemeral") == "ephemeral" for r in answer)


@pytest.mark.parametrize(("user", "name", "text", "answer"), TYPED_WRONG)
def test_a_command_typed_wrong_is_answered_only_to_the_caller(
    user: str, name: str, text: str, answer: str, desk: Desk
) -> None:
    said_back = desk.bot.slash(user, name, text)

    assert answer in said(said_back)
    assert said(said_back).count("Usage:") <= 1
    assert only_to_the_caller(said_back)
    assert desk.unchanged()


@pytest.mark.parametrize(("user", "name", "text", "answer"), TOO_BIG)
def test_50000_characters_where_they_cannot_go_are_refused_without_an_echo(
    user: str, name: str, text: str, answer: str, desk: Desk
) -> None:
    said_back = desk.bot.slash(user, name, text)

    assert answer in said(said_back) and only_to_the_caller(said_back)
    assert len(said(said_back)) < 1000
    assert desk.unchanged()
