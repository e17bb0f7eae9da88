"""Slash commands. Every command of manifest.yml is registered here, and only those."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

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
    presence,
    release,
    reply,
    resolve,
    stats,
    team,
    topic,
)
from handlers.refusals import answered

COMMANDS: dict[str, Callable[..., None]] = {
    "/claim": claim.handle_claim,
    "/release": release.handle_release,
    "/handover": handover.handle_handover,
    "/reply": reply.handle_reply,
    "/note": note.handle_note,
    "/resolve": resolve.handle_resolve,
    "/history": history.handle_history,
    "/canned": canned.handle_canned,
    "/team": team.handle_team,
    "/followup": followup.handle_followup,
    "/escalate": escalate.handle_escalate,
    "/oncall": oncall.handle_oncall,
    "/stats": stats.handle_stats,
    "/dm": dm.handle_dm,
    "/topic": topic.handle_topic,
    "/away": presence.handle_away,
    "/back": presence.handle_back,
}


def register(app: App) -> None:
    """Attach one listener per slash command."""
    for name, listener in COMMANDS.items():
        app.command(name)(answered(listener))
