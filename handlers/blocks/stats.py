"""`/stats` and the App Home: the numbers as Block Kit, and the chart as a PNG."""

from __future__ import annotations

import io
import json
from typing import Any

from bot.stats import HomeData, StatsReport
from bot.topics import shown_name
from bot.x_budget import Spend
from bot.x_calls import XKind
from handlers.blocks.cards import STATE_LABELS
from handlers.blocks.lists import Entry, followup_entry, page_blocks
from handlers.blocks.text import escape_within, section, slack_date


def _minutes(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 120:
        return f"{value / 60:.1f} h"
    return f"{value:.0f} min"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs],
    }


def stats_blocks(report: StatsReport) -> list[dict[str, Any]]:
    """The team's numbers for one period."""
    backlog = report.backlog
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"📊 Servicekanal — {report.label}"},
        },
        _fields(
            [
                ("Tickets in", str(report.tickets_in)),
                ("Replies out", str(report.replies_out)),
                ("DMs out", str(report.dms_out)),
                ("Answered", str(report.answered)),
                ("First response (median)", _minutes(report.first_response_p50)),
                ("First response (90 %)", _minutes(report.first_response_p90)),
                (
                    "SLA kept",
                    f"{_percent(report.sla_percent)} "
                    f"({report.sla_kept} of {report.sla_kept + report.sla_missed})",
                ),
                (
                    "Promises kept",
                    f"{_percent(report.promises_percent)} "
                    f"({report.promises_kept} of {report.promises_kept + report.promises_broken})",
                ),
            ]
        ),
        _fields(
            [
                ("Unclaimed", str(backlog.unclaimed)),
                ("Claimed", str(backlog.claimed)),
                ("Follow-ups pending", str(backlog.followup_pending)),
                ("Overdue", str(backlog.overdue)),
            ]
        ),
    ]
    if report.agents:
        lines = ["`claimed replied resolved median`"]
        for agent in report.agents[:25]:
            lines.append(
                f"`{agent.claimed:>7} {agent.replied:>7} {agent.resolved:>8} "
                f"{_minutes(agent.median_first_response):>6}` <@{agent.slack_user_id}>"
            )
        blocks.append(section("*Per agent*\n" + "\n".join(lines)))
    blocks.extend(topic_blocks(report))
    extras = []
    if report.busiest_hours:
        extras.append(
            "*Busiest hours:* " + ", ".join(f"{h:02d}:00 ({n})" for h, n in report.busiest_hours)
        )
    if report.top_canned:
        extras.append(
            "*Top canned answers:* "
            + ", ".join(f"`:{escape_within(n, 64)}` ({c})" for n, c in report.top_canned)
        )
    if extras:
        blocks.append(section("\n".join(extras)))
    if report.x_spend is not None:
        blocks.append(section(x_spend_text(report.x_spend)))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{slack_date(report.start)} – {slack_date(report.end)} · "
                    "business minutes count open hours only",
                }
            ],
        }
    )
    return blocks


def topic_blocks(report: StatsReport) -> list[dict[str, Any]]:
    """Per topic, and who answered which topic first; nothing while there are no topics."""
    if not any(row.topic for row in report.topics):
        return []
    lines = ["`    in  median    90 %  SLA kept`"]
    for row in report.topics[:20]:
        decided = row.sla_kept + row.sla_missed
        kept = _percent(100 * row.sla_kept / decided if decided else None)
        name = escape_within(shown_name(row.topic), 40) if row.topic else "_no topic_"
        lines.append(
            f"`{row.tickets_in:>6} {_minutes(row.p50):>7} {_minutes(row.p90):>7} {kept:>9}` {name}"
        )
    blocks = [section("*Per topic*\n" + "\n".join(lines))]
    if report.agent_topics:
        people = ["`answered  median`"]
        for agent in report.agent_topics[:30]:
            name = escape_within(shown_name(agent.topic), 40) if agent.topic else "_no topic_"
            people.append(
                f"`{agent.answered:>8} {_minutes(agent.p50):>7}` <@{agent.slack_user_id}> · {name}"
            )
        blocks.append(section("*Who works which topic* (first answers)\n" + "\n".join(people)))
    return blocks


X_KIND_LABELS = {
    XKind.POST_READ: "post reads",
    XKind.OWNED_READ: "owned reads",
    XKind.USER_READ: "user reads",
    XKind.DM_EVENT_READ: "DM event reads",
    XKind.POST: "posts",
    XKind.POST_WITH_URL: "posts with a URL",
    XKind.DM_SENT: "DMs sent",
}


def _usd(value: float) -> str:
    return f"${value:,.3f}" if value < 10 else f"${value:,.2f}"


def x_spend_text(spend: Spend) -> str:
    """The X spend of the period by kind, per answered customer, and against the budget."""
    head = f"*X spend:* {_usd(spend.total)}"
    if spend.per_customer is not None:
        head += f" · {_usd(spend.per_customer)} per answered customer ({spend.answered_customers})"
    lines = [head]
    parts = [
        f"{X_KIND_LABELS[kind]} {units:,} ({_usd(usd)})"
        for kind, (units, usd) in sorted(spend.by_kind.items(), key=lambda item: -item[1][1])
        if units
    ]
    if parts:
        lines.append(", ".join(parts))
    if spend.budget is not None:
        percent = spend.budget_percent or 0.0
        spent, budget = _usd(spend.month_total), _usd(spend.budget)
        line = f"Budget this month: {spent} of {budget} ({percent:.0f} %)"
        if percent >= 100:
            line += " · keyword searches paused"
        lines.append(line)
    return "\n".join(lines)


def stats_message(report: StatsReport) -> dict[str, Any]:
    """`/stats` as an ephemeral message."""
    summary = (
        f"{report.label}: {report.tickets_in} tickets in, {report.replies_out} replies out, "
        f"SLA kept {_percent(report.sla_percent)}"
    )
    return {"text": summary, "blocks": stats_blocks(report)}


def chart_alt_text(report: StatsReport) -> str:
    """What the chart shows, for people who cannot see it."""
    busiest = max(report.series, key=lambda p: p.tickets, default=None)
    unit = "hour" if report.period == "today" else "day"
    text = f"Tickets per {unit} and median first response, {report.label}."
    if busiest is not None:
        text += f" Most tickets: {busiest.tickets} at {busiest.label}."
    return text[:1000]


def chart_png(report: StatsReport) -> bytes:
    """Tickets per day (or hour) as bars, median first response as a line; Slack-preview size."""
    # Imported here, not at start-up: matplotlib costs about 50 MiB that most bots never use.
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to PNG bytes
    from matplotlib import pyplot as plt

    labels = [p.label for p in report.series] or ["–"]
    counts = [p.tickets for p in report.series] or [0]
    medians = [p.median_first_response for p in report.series] or [None]
    figure, bars = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        positions = list(range(len(labels)))
        bars.bar(positions, counts, color="#e20074", label="tickets in")
        bars.set_ylabel("tickets")
        bars.set_xticks(positions)
        step = max(1, len(labels) // 12)  # about a dozen labels stay readable at preview size
        bars.set_xticklabels(
            [label if i % step == 0 else "" for i, label in enumerate(labels)],
            rotation=45,
            ha="right",
        )
        line = bars.twinx()
        points = [(i, m) for i, m in enumerate(medians) if m is not None]
        if points:
            line.plot(
                [i for i, _ in points],
                [m for _, m in points],
                color="#1d3a5f",
                marker="o",
                label="median first response",
            )
        line.set_ylabel("median first response (business min)")
        line.set_ylim(bottom=0)
        bars.set_title(f"Servicekanal — {report.label}")
        handles = bars.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
        figure.legend(handles=handles, loc="upper left", fontsize="small")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


PRESENCE = {
    "present": "🟢 present: tickets can be assigned to you (`/away` to pause)",
    "away": "🌴 away: no tickets are assigned to you (`/back` when you are back)",
    "closed": "🌙 outside service hours: nothing is assigned now",
}


def presence_blocks(data: HomeData) -> list[dict[str, Any]]:
    """My skills and whether auto-assignment gives me tickets now."""
    if data.presence is None:
        return []
    skills = ", ".join(shown_name(s) for s in data.skills) or "none yet (a lead sets them)"
    text = f"{PRESENCE[data.presence]} · skills: {escape_within(skills, 300)}"
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def home_view(data: HomeData) -> dict[str, Any]:
    """The App Home tab: my tickets and promises, a page of each; for leads, today's numbers.

    Where each list stands is kept in the view, so that paging one keeps the other's place.
    """
    place = {"tickets": data.tickets.start, "followups": data.followups.start}
    tickets = [
        Entry(
            f"• *#{t.id}* {STATE_LABELS.get(t.state, t.state)} · since {slack_date(t.created_at)}"
        )
        for t in data.tickets.items
    ]
    followups = [
        followup_entry(ticket_id=f.ticket_id, due=f.due_at, overdue=f.overdue, note=f.note)
        for f in data.followups.items
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your tickets"}},
        *presence_blocks(data),
        *page_blocks(
            title="Open tickets",
            entries=tickets,
            page=data.tickets,
            names={"list": "home_tickets"},
            empty="No open tickets. Claim one from the support channel.",
        ),
        {"type": "header", "text": {"type": "plain_text", "text": "Your follow-ups"}},
        *page_blocks(
            title="Open follow-ups",
            entries=followups,
            page=data.followups,
            names={"list": "home_followups"},
            empty="No promises due.",
        ),
    ]
    if data.team is not None:
        blocks.append({"type": "divider"})
        blocks.extend(stats_blocks(data.team))
    return {"type": "home", "private_metadata": json.dumps(place), "blocks": blocks}
