"""/stats by topic: the same figures per topic and per person and topic, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from store.db import session_scope
from store.models import Customer, Ticket
from store.topic_stats import AgentTopicRow, TopicRow, by_agent_and_topic, by_topic

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_figures_per_topic_and_per_person_and_topic(any_engine: Engine) -> None:
    # festnetz: 10, 20, 30, 40 minutes and one unanswered; tv: 50 (missed); no topic: 5.
    answers = [
        ("festnetz", 10.0, "UKAI"),
        ("festnetz", 20.0, "UKAI"),
        ("festnetz", 30.0, "UROMINA"),
        ("festnetz", 40.0, "UKAI"),
        ("festnetz", None, None),
        ("tv", 50.0, "UKAI"),
        (None, 5.0, "UROMINA"),
    ]
    with session_scope(any_engine) as session:
        customer = Customer(x_user_id="1", username="k")
        session.add(customer)
        session.flush()
        assert customer.id is not None
        for i, (topic, minutes, by) in enumerate(answers):
            session.add(
                Ticket(
                    customer_id=customer.id,
                    source="mention",
                    channel_id="C1",
                    topic=topic,
                    first_response_minutes=minutes,
                    first_response_by=by,
                    created_at=START + timedelta(minutes=i),
                )
            )
        session.add(  # outside the period
            Ticket(
                customer_id=customer.id,
                source="mention",
                channel_id="C1",
                topic="tv",
                created_at=START - timedelta(days=2),
            )
        )
    end = START + timedelta(hours=1)
    with session_scope(any_engine, readonly=True) as session:
        topics = by_topic(session, START, end, sla_minutes=30)
        people = by_agent_and_topic(session, START, end)
    assert topics == [
        TopicRow("festnetz", 5, 4, 20.0, 40.0, sla_kept=3, sla_missed=1),
        TopicRow("tv", 1, 1, 50.0, 50.0, sla_kept=0, sla_missed=1),
        TopicRow("", 1, 1, 5.0, 5.0, sla_kept=1, sla_missed=0),
    ]
    assert people == [
        AgentTopicRow("UKAI", "festnetz", 3, 20.0),
        AgentTopicRow("UKAI", "tv", 1, 50.0),
        AgentTopicRow("UROMINA", "festnetz", 1, 30.0),
        AgentTopicRow("UROMINA", "", 1, 5.0),
    ]
