"""Whether Slack shows one card per tweet, in order (kept free of the bot's imports, so
that the memory benchmark's parent process can use it without growing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardCheck:
    """How the cards Slack shows compare with the tweets that were on X."""

    expected: int
    posted: int
    lost: int
    duplicated: int
    in_order: bool

    @property
    def ok(self) -> bool:
        """Every tweet has exactly one card, in the tweets' order."""
        return self.lost == 0 and self.duplicated == 0 and self.in_order

    def describe(self) -> str:
        """One line for a table."""
        verdict = "ok" if self.ok else "FAILED"
        order = "in order" if self.in_order else "OUT OF ORDER"
        return (
            f"{verdict}: {self.posted} cards for {self.expected} tweets, {order}, "
            f"{self.lost} lost, {self.duplicated} duplicated"
        )
