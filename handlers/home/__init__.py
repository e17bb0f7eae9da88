"""The App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import Services
from handlers.blocks.stats import home_view
from handlers.blocks.text import section
from handlers.context import Payload
from handlers.refusals import answered


def render_home(
    services: Services, user_id: str, *, tickets_from: int = 0, followups_from: int = 0
) -> dict[str, Any]:
    """A person's Home tab: a page of their tickets and promises; for leads, the team's day."""
    member = services.roster.member(user_id)
    if member is None:
        return {
            "type": "home",
            "blocks": [
                section(
                    "You are not on the Servicekanal team yet. "
                    "A lead adds you with `/team add @you agent`."
                )
            ],
        }
    return home_view(
        services.stats.home(
            slack_user_id=user_id,
            lead=member.is_lead,
            tickets_from=tickets_from,
            followups_from=followups_from,
        )
    )


def handle_app_home_opened(event: Payload, services: Services) -> None:
    """Refresh the Home tab of whoever opened it."""
    if event.get("tab", "home") == "home":
        services.home.publish(str(event["user"]))


def register(app: App) -> None:
    """Publish the Home tab whenever someone opens it."""
    app.event("app_home_opened")(answered(handle_app_home_opened))
