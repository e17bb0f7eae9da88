"""Slash commands. Every command of manifest.yml is registered here, and only those."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.services import Services
from handlers.commands import (
    canned,
    claim,
    dm,
    escalate,
    followup,
    handover,
    history,
    note,
    oncall,
    release,
    reply,
    resolve,
    stats,
    team,
)
from handlers.refusals import answering

HandlerFactory = Callable[[Services], Callable[..., None]]

COMMANDS: dict[str, HandlerFactory] = {
    "/claim": claim.make_handle_claim,
    "/release": release.make_handle_release,
    "/handover": handover.make_handle_handover,
    "/reply": reply.make_handle_reply,
    "/note": note.make_handle_note,
    "/resolve": resolve.make_handle_resolve,
    "/history": history.make_handle_history,
    "/canned": canned.make_handle_canned,
    "/team": team.make_handle_team,
    "/followup": followup.make_handle_followup,
    "/escalate": escalate.make_handle_escalate,
    "/oncall": oncall.make_handle_oncall,
    "/stats": stats.make_handle_stats,
    "/dm": dm.make_handle_dm,
}


def register(app: App, services: Services) -> None:
    """Attach one listener per slash command."""
    answered = answering(services)
    for name, factory in COMMANDS.items():
        app.command(name)(answered(factory(services)))
