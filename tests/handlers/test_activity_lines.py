"""Thread lines of what happened to a ticket: numbers come from typed fields, not `note`."""

from __future__ import annotations

from bot.present import ActivityKind, ActivityView
from handlers.blocks.cards import activity


def test_the_unclaimed_line_says_how_many_business_minutes_it_waited() -> None:
    line = activity(ActivityView(12, ActivityKind.UNCLAIMED, None, minutes=10))["text"]
    assert line == "🔔 #12 has waited 10 business minutes; nobody has claimed it."


def test_the_sla_warning_says_how_many_minutes_are_left_even_when_none_are() -> None:
    line = activity(ActivityView(12, ActivityKind.SLA_WARNING, None, "U0ANNA", minutes=0))["text"]
    assert line == "⌛ <@U0ANNA>, #12 has 0 business minutes left for its first answer."


def test_a_line_without_its_number_says_so_instead_of_inventing_one() -> None:
    line = activity(ActivityView(12, ActivityKind.UNCLAIMED, None))["text"]
    assert "has waited ? business minutes" in line
