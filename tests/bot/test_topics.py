"""How topics read a tweet: whole words, case and umlaut spelling ignored, first match wins."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.topics import Router, TopicRule, channel_of, fold

ROUTER = Router.of(
    [
        TopicRule("festnetz", "CFEST", ("DSL", "Störung", "Glasfaser Anschluss")),
        TopicRule("mobilfunk", "CMOBIL", ("SIM", "5G", "Straße")),
        TopicRule("tv", "CTV", ("MagentaTV", "DSL")),  # DSL again: festnetz was first
    ]
)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Seit heute morgen kein DSL in Köln", "festnetz"),
        ("dsl weg", "festnetz"),
        ("DSL und MagentaTV sind weg", "festnetz"),  # the first topic added wins
        ("MagentaTV hängt", "tv"),
        ("Schon wieder eine STOERUNG", "festnetz"),
        ("schon wieder eine störung", "festnetz"),
        ("Stoerung!!!", "festnetz"),
        ("Glasfaser\n  Anschluss", "festnetz"),  # a keyword of two words, spaced any way
        ("Glasfaser Anschluss fehlt", "festnetz"),
        ("Neue SIM bitte", "mobilfunk"),
        ("Meine SIMkarte", None),  # inside a longer word: no keyword
        ("Simulation", None),
        ("#5G geht nicht", "mobilfunk"),
        ("in der Strasse kein Netz", "mobilfunk"),  # ß = ss
        ("Rechnung doppelt abgebucht", None),
        ("", None),
    ],
)
def test_routing(text: str, topic: str | None) -> None:
    found = ROUTER.route(text)
    assert (found.name if found else None) == topic


def test_a_topic_without_keywords_matches_nothing() -> None:
    assert Router.of([TopicRule("leer", "CLEER", ("", " "))]).route("alles") is None


def test_decomposed_umlauts_are_the_same_word() -> None:
    assert ROUTER.route("Sto\u0308rung") is not None  # o + combining diaeresis


@given(st.text())
def test_folding_is_stable_and_routing_never_fails(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    ROUTER.route(text)


@pytest.mark.parametrize(
    ("token", "channel"),
    [
        ("<#C0FEST123|festnetz>", "C0FEST123"),
        ("<#C0FEST123>", "C0FEST123"),
        ("C0FEST123", "C0FEST123"),
        ("#festnetz", None),
        ("<@U0KAI>", None),
        ("<#C0FEST123|festnetz", None),
    ],
)
def test_channels_as_slack_escapes_them(token: str, channel: str | None) -> None:
    assert channel_of(token) == channel
