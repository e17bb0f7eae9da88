"""Settings: the configuration contract of SPEC §2, read from the environment or `.env`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.hours import parse_service_hours
from bot.x_calls import DEFAULT_PRICES, XKind, parse_prices

DEFAULT_OUT_OF_HOURS_REPLY = (
    "Danke für deine Nachricht! Unser Team ist gerade nicht da und meldet sich ab {opens}. "
    "Thanks for your message! Our team is back from {opens}."
)

# Customer and contract numbers as German providers print them on invoices: a keyword
# followed by the number, or the "Buchungskonto" form with its dashes.
DEFAULT_CONTRACT_NUMBER_PATTERNS = (
    r"(?i)\b(?:kunden|kd\.?|vertrags|auftrags|rechnungs|customer|contract|account)"
    r"[- ]?(?:nummer|nr\.?|number|no\.?|id)\s*(?:[:#]|ist|lautet|is)?\s*"
    r"[A-Z]{0,3}[0-9](?:[ -]?[0-9]){5,}"
    r";\b\d{3}-\d{3}-\d{4}\b"
)

# What `.env.example` ships with, and the usual fill-me-ins ("xoxb-your-token", "changeme"):
# such a value was copied, never set. Real tokens and ids never look like this.
EXAMPLE_VALUES = frozenset({"C0123ABCD", "U0123LEAD", "U0456LEAD"})
_PLACEHOLDER = re.compile(
    r"(?i)(?:^|[-_])your[-_]|^(?:xox[bpa]|xapp)-?(?:\.\.\.|…|x+)?$|^(?:changeme|change[-_]me|todo|tbd|"
    r"placeholder|secret|token|xxx+|\.\.\.|…|<[^>]*>)$"
)


PLACEHOLDER_MESSAGE = "still holds a placeholder"


def is_placeholder(value: str) -> bool:
    """Whether a value is an example or a fill-me-in rather than something real."""
    value = value.strip()
    return value in EXAMPLE_VALUES or bool(_PLACEHOLDER.search(value))


_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _split(value: Any, separator: str) -> Any:
    """Split a separated list from the environment; leave anything else to pydantic."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(separator) if part.strip()]
    return value


def _base_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be an http(s) URL")
    return value


# Tuned on alike-tweets.jsonl with `python -m bench.grouping` (README, "Alike questions").
DEFAULT_GROUP_SIMILARITY = 0.30


class GroupingSettings(BaseSettings):
    """The settings of grouping alike questions (SPEC §10): all `python app.py groups` reads."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    group_window_hours: int = Field(default=24, ge=1, le=168)
    group_min_size: int = Field(default=3, ge=2)
    # Cosine similarity of two texts' meaningful words: 0 nothing in common, 1 the same.
    group_similarity: float = Field(default=DEFAULT_GROUP_SIMILARITY, gt=0, le=1)


class Settings(GroupingSettings):
    """Every setting of the contract; field names are the environment variable names.

    It reads its sources as GroupingSettings does (its model_config is inherited).
    """

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    support_channel_id: str
    escalation_channel_id: str | None = None
    admin_user_ids: Annotated[list[str], NoDecode] = []

    x_bearer_token: SecretStr
    x_api_key: SecretStr
    x_api_secret: SecretStr
    x_access_token: SecretStr
    x_access_token_secret: SecretStr
    x_api_url: str = "https://api.twitter.com"
    x_keyword_queries: Annotated[list[str], NoDecode] = []
    x_allow_unsummoned_replies: bool = False
    # Posting pace when X sends no rate-limit headers (SPEC §10); X's own limit is 100.
    x_posts_per_15_min: int = Field(default=100, ge=1, le=10000)
    # What X bills per request kind (SPEC §11), and the month's budget in USD.
    x_prices: Annotated[dict[XKind, float], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES)
    )
    x_monthly_budget: float | None = Field(default=None, gt=0)

    poll_interval_seconds: int = Field(default=15, ge=1, le=3600)
    dm_poll_interval_seconds: int = Field(default=60, ge=1, le=3600)
    sweep_interval_seconds: int = Field(default=15, ge=1, le=3600)
    slack_post_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    backfill_hours: int = Field(default=24, ge=0, le=168)

    timezone: str = "Europe/Berlin"
    service_hours: str = "mon-fri 08:00-20:00"
    holidays: str = "DE"
    first_response_sla_minutes: int = Field(default=30, ge=1)
    unclaimed_alert_minutes: int = Field(default=10, ge=1)
    followup_warn_minutes: int = Field(default=10, ge=0)
    followup_escalate_minutes: int = Field(default=15, ge=0)
    signature_format: str = " ^{initials}"
    out_of_hours_reply: str = DEFAULT_OUT_OF_HOURS_REPLY
    phone_region: str = "DE"
    contract_number_patterns: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: _split(DEFAULT_CONTRACT_NUMBER_PATTERNS, ";")
    )
    vip_followers: int = Field(default=10000, ge=0)
    public_contact_data: Annotated[list[str], NoDecode] = []
    # SPEC §13: `pull` (people claim) or `auto` (new tickets are given to someone).
    assignment: Literal["pull", "auto"] = "pull"
    max_open_per_agent: int = Field(default=8, ge=1, le=1000)
    auto_assign_trainees: bool = False
    oncall_rota: Annotated[list[str], NoDecode] = []

    database_url: str = "sqlite:///servicekanal.db"
    port: int = Field(default=3000, ge=1, le=65535)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "support_channel_id",
        "escalation_channel_id",
        "admin_user_ids",
        "oncall_rota",
        "x_bearer_token",
        "x_api_key",
        "x_api_secret",
        "x_access_token",
        "x_access_token_secret",
        mode="before",
    )
    @classmethod
    def _not_a_placeholder(cls, value: Any) -> Any:
        values = _split(value, ",") if isinstance(value, str) else value
        for item in values if isinstance(values, list) else [value]:
            raw = item.get_secret_value() if isinstance(item, SecretStr) else item
            if isinstance(raw, str) and is_placeholder(raw):
                raise ValueError(PLACEHOLDER_MESSAGE)
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("admin_user_ids", "oncall_rota", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value, ",")

    @field_validator(
        "x_keyword_queries", "contract_number_patterns", "public_contact_data", mode="before"
    )
    @classmethod
    def _semicolon_list(cls, value: Any) -> Any:
        return _split(value, ";")

    @field_validator("x_prices", mode="before")
    @classmethod
    def _prices(cls, value: Any) -> Any:
        return parse_prices(value) if isinstance(value, str) else value

    @field_validator("x_monthly_budget", mode="before")
    @classmethod
    def _no_budget(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return _base_url(value).rstrip("/") + "/"

    @field_validator("x_api_url")
    @classmethod
    def _x_url(cls, value: str) -> str:
        return _base_url(value).rstrip("/")

    @field_validator("support_channel_id", "escalation_channel_id")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _SLACK_CHANNEL.match(value):
            raise ValueError("must be a Slack channel id such as C0123ABCD")
        return value

    @field_validator("admin_user_ids", "oncall_rota")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        for user in value:
            if not _SLACK_USER.match(user):
                raise ValueError(f"{user!r} is not a Slack user id such as U0123ABCD")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("service_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_service_hours(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        if value.strip():
            country, _, subdivision = value.strip().upper().partition("-")
            try:
                holidays.country_holidays(country, subdiv=subdivision or None)
            except NotImplementedError as exc:
                raise ValueError(str(exc)) from None
        return value.strip().upper()

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as DE")
        return value.upper()

    @field_validator("contract_number_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("signature_format")
    @classmethod
    def _signature(cls, value: str) -> str:
        try:
            value.format(initials="XY")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only contain the placeholder {initials}") from None
        return value

    @field_validator("out_of_hours_reply")
    @classmethod
    def _out_of_hours(cls, value: str) -> str:
        try:
            value.format(opens="Mo 08:00")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only contain the placeholder {opens}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @model_validator(mode="after")
    def _http_mode_needs_signing_secret(self) -> Settings:
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN)"
            )
        return self

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, HTTP mode otherwise."""
        return self.slack_app_token is not None

    @property
    def escalation_channel(self) -> str:
        """Where escalations go: ESCALATION_CHANNEL_ID, else the support channel."""
        return self.escalation_channel_id or self.support_channel_id

    def secrets(self) -> list[str]:
        """Every configured secret value, so that logging can redact them."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.x_bearer_token,
            self.x_api_key,
            self.x_api_secret,
            self.x_access_token,
            self.x_access_token_secret,
        ]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def describe_settings_error(error: ValidationError) -> str:
    """One line naming every bad setting, without echoing any value."""
    problems: list[str] = []
    placeholders: list[str] = []
    for item in error.errors(include_input=False, include_url=False):
        name = "_".join(str(part) for part in item["loc"] if not isinstance(part, int)).upper()
        message = item["msg"].removeprefix("Value error, ")
        if message == PLACEHOLDER_MESSAGE:
            placeholders.append(name)
        elif item["type"] == "missing":
            problems.append(f"{name} is missing")
        elif name:
            problems.append(f"{name} is invalid: {message}")
        else:
            problems.append(message)
    if placeholders:
        verb = "still holds a placeholder" if len(placeholders) == 1 else "still hold placeholders"
        problems.append(f"{', '.join(placeholders)} {verb}: put in real values")
    return "Configuration error: " + "; ".join(problems) + " (see .env.example)"
