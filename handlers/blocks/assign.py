"""What auto-assignment shows: the offer to a lead when an owner goes away."""

from __future__ import annotations

from bot.present import AwayOfferView, SlackMessage
from handlers import ids
from handlers.blocks.text import count, section


def away_offer(offer: AwayOfferView) -> SlackMessage:
    """By DM to each lead: who went away with which tickets, and two buttons."""
    shown = ", ".join(f"#{n}" for n in offer.ticket_ids[:40])
    if len(offer.ticket_ids) > 40:
        shown += ", …"
    text = (
        f"🌴 <@{offer.away}> is away with {count(len(offer.ticket_ids), 'open ticket')}: "
        f"{shown}. Re-assign them to the present colleagues with the skill and the fewest "
        "open tickets? Nothing moves until you choose."
    )
    return {
        "text": text[:300],
        "blocks": [
            section(text),
            {
                "type": "actions",
                "block_id": "away_offer",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Re-assign them"},
                        "style": "primary",
                        "action_id": ids.AWAY_REASSIGN,
                        "value": offer.away,
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Leave them"},
                        "action_id": ids.AWAY_KEEP,
                        "value": offer.away,
                    },
                ],
            },
        ],
    }
