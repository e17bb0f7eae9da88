"""`python app.py groups FILE`: the bot's grouping run on exported texts, to try a threshold.

Input: JSON lines with `id` (string or number) and `text`, and optionally `created_at`
(ISO 8601; without a zone, UTC); other fields are ignored, blank lines skipped. Output:
one line per input, in input order, `{"id": ..., "group": <int or null>}` (null: alone).

Texts are placed in order of `created_at` (file order among equal times), so that
GROUP_WINDOW_HOURS applies as in the bot; without `created_at` every text counts as
arriving at the same time, all within the window. A file is read whole and checked first:
with any bad line nothing is printed but the errors, each naming its line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from bot.config import GroupingSettings, describe_settings_error
from bot.grouping import Grouper, assign, word_grouper

MAX_ERRORS = 20
# Texts without a time all arrive at once; any fixed time serves.
_ONE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


class _Line(BaseModel):
    """One input line, as the command accepts it."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | StrictInt
    text: StrictStr
    created_at: datetime | None = None


@dataclass(frozen=True)
class Text:
    """One text to group, with the line it came from."""

    line: int
    id: str | int
    text: str
    at: datetime | None


class BadInput(Exception):
    """The input has lines the command cannot read; `errors` name each one."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def _problem(error: ValidationError) -> str:
    """What is wrong with a line, without echoing customer text."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "line"
        if item["type"] == "missing":
            problems.append(f"{field} is missing")
        else:
            problems.append(f"{field}: {item['msg']}")
    return "; ".join(problems)


def read_texts(lines: Iterable[str]) -> list[Text]:
    """The texts of JSON lines; BadInput names every line that is not one."""
    texts: list[Text] = []
    errors: list[str] = []
    seen: dict[str | int, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = _Line.model_validate_json(raw)
        except ValidationError as exc:
            if any(item["type"] in ("json_invalid", "model_type") for item in exc.errors()):
                errors.append(f"line {number}: not a JSON object")
            else:
                errors.append(f"line {number}: {_problem(exc)}")
            continue
        if row.id in seen:
            errors.append(f"line {number}: id {json.dumps(row.id)} is on line {seen[row.id]} too")
            continue
        seen[row.id] = number
        at = row.created_at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        texts.append(Text(number, row.id, row.text, at))
    timed = [t for t in texts if t.at is not None]
    if timed and len(timed) < len(texts):
        untimed = next(t for t in texts if t.at is None)
        errors.append(
            f"line {untimed.line}: created_at is missing (line {timed[0].line} has one: "
            "give it on every line or on none)"
        )
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(f"and {len(errors) - MAX_ERRORS} more bad lines")
        raise BadInput(shown)
    return texts


def group_texts(texts: Sequence[Text], settings: GroupingSettings) -> list[str]:
    """One output line per text, in input order, grouped by the bot's grouping."""
    grouper: Grouper[int, Any] = word_grouper(settings)
    in_time = sorted(texts, key=lambda t: t.at or _ONE_TIME)  # stable: file order on ties
    groups = assign(grouper, ((t.line, t.text, t.at or _ONE_TIME) for t in in_time))
    return [json.dumps({"id": t.id, "group": groups[t.line]}, ensure_ascii=False) for t in texts]


def groups_command(path: str, *, env_file: str) -> int:
    """`python app.py groups FILE`: print each text's group; 1 for bad input, 2 bad settings."""
    try:
        settings = GroupingSettings(_env_file=env_file)
    except ValidationError as exc:
        print(describe_settings_error(exc), file=sys.stderr)
        return 2
    try:
        if path == "-":
            texts = read_texts(sys.stdin)
        else:
            with open(path, encoding="utf-8") as lines:
                texts = read_texts(lines)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot be read ({exc})", file=sys.stderr)
        return 1
    except BadInput as exc:
        for error in exc.errors:
            print(f"{path}: {error}", file=sys.stderr)
        return 1
    for line in group_texts(texts, settings):
        print(line)
    return 0
