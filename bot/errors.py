"""Expected refusals: the domain says no, with a sentence for the person who asked."""

from __future__ import annotations


class Refused(Exception):
    """A request the domain will not carry out; nothing was changed or sent."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message
