"""Play a storm: many customers at once, asking alike questions, as on a launch day.

The tweets are the project"s labelled alike-questions set (`data/alike-tweets.jsonl`, 244
tweets in 18 groups of alike questions and 61 singletons, written for this purpose, no
real customers), each from a customer of its own, all in one burst.
"""

from __future__ import annotations

import json
import random
from importlib import resources
from typing import Any

from standins.x_api import BRAND_USERNAME, XStandIn

DATA_BRAND = "@brand_hilft"  # how the data set addresses the brand
FIRST = (
    "Anja",
    "Bernd",
    "Carla",
    "Deniz",
    "Elif",
    "Frank",
    "Greta",
    "Hakan",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mara",
    "Nils",
    "Olga",
    "Paul",
    "Rosa",
    "Sven",
    "Tina",
    "Uwe",
    "Vera",
    "Wolf",
    "Yusuf",
    "Zoe",
)
LAST = (
    "Albers",
    "Brandt",
    "Celik",
    "Dietz",
    "Engel",
    "Fuchs",
    "Graf",
    "Hahn",
    "Jung",
    "Koch",
    "Lang",
    "Marx",
    "Noack",
    "Otto",
    "Peters",
    "Roth",
    "Sauer",
    "Thiel",
    "Unger",
    "Voigt",
    "Wolff",
    "Yilmaz",
    "Ziegler",
)


def storm_tweets() -> list[dict[str, Any]]:
    """The data set: `id`, `text` and the `label` of its group."""
    lines = resources.files("sandbox").joinpath("data/alike-tweets.jsonl").read_text("utf-8")
    return [json.loads(line) for line in lines.splitlines() if line.strip()]


def play_storm(x: XStandIn, *, round_number: int) -> int:
    """Every tweet of the set, by new customers, at once; returns how many were tweeted."""
    tweets = storm_tweets()
    chance = random.Random(round_number)  # the same storm each round, new faces each round
    for index, row in enumerate(tweets):
        first, last = chance.choice(FIRST), chance.choice(LAST)
        handle = f"{first.lower()}{last[0].lower()}_{round_number}{index:03d}"[:15]
        followers = int(chance.paretovariate(1.2) * 40)
        customer = x.add_user(handle, f"{first} {last}", followers=followers)
        text = str(row["text"]).replace(DATA_BRAND, f"@{BRAND_USERNAME}")
        x.tweet(customer, text)  # the few without a mention are found by keyword search
    return len(tweets)
