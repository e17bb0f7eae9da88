"""/stats [today | 7d | 30d]"""

from __future__ import annotations

import logging

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import Usage, words
from bot.services import Services
from handlers.blocks.stats import chart_alt_text, chart_png, stats_message
from handlers.context import Payload
from handlers.refusals import explained_by

log = logging.getLogger(__name__)
USAGE = Usage("/stats", "[today | 7d | 30d]")


def handle_stats(
    ack: Ack, command: Payload, respond: Respond, client: WebClient, services: Services
) -> None:
    """/stats: the team's numbers, ephemerally; the chart goes to the lead's DM."""
    ack()
    period, rest = words(command["text"], 2)
    if rest:
        raise USAGE.refuse()
    with explained_by(USAGE):  # an unknown period: say which, then how it goes
        report = services.stats.report(period.lower() or "today")
    respond(response_type="ephemeral", **stats_message(report))
    lead = command["user_id"]
    try:
        dm = client.conversations_open(users=lead)["channel"]["id"]
        intro = client.chat_postMessage(
            channel=dm, text=f"📊 Chart for `/stats {report.period}` ({report.label})"
        )
        client.files_upload_v2(
            channel=dm,
            thread_ts=intro["ts"],
            file=chart_png(report),
            filename=f"servicekanal-stats-{report.period}.png",
            title=f"Servicekanal — {report.label}",
            alt_txt=chart_alt_text(report),
        )
    except SlackApiError as exc:
        log.warning("stats chart not uploaded: %s", exc.response.get("error"))
        respond(
            f"The chart could not be uploaded ({exc.response.get('error')}).",
            response_type="ephemeral",
        )
