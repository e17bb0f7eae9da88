"""Cross-cutting checks that run before any listener."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_bolt.request.payload_utils import (
    is_action,
    is_block_actions,
    is_event,
    is_options,
    is_shortcut,
    is_slash_command,
    is_view,
)

from bot.roster import NOT_ON_TEAM, allows, refusal_for, required_role
from bot.services import Services
from handlers.blocks.notices import notice_modal
from handlers.context import beside

log = logging.getLogger(__name__)


def _team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    return team if isinstance(team, str) else None


def make_only_our_workspace(team_id: str) -> Callable[..., BoltResponse | None]:
    """Refuse requests from any workspace but the bot token's own."""

    def only_our_workspace(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        team = _team_of(body)
        if team is not None and team != team_id:
            log.warning("refused a request from another workspace")
            return BoltResponse(status=401, body="This app serves one workspace only.")
        next()
        return None

    return only_our_workspace


def make_skip_retried_events(services: Services) -> Callable[..., BoltResponse | None]:
    """Answer Slack's retries of an event we already handled, without handling it again."""

    def skip_retried_events(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        retried = (
            body.get("type") == "event_callback"
            and isinstance(event_id, str)
            and not services.events.first_time(event_id)
        )
        if retried:
            log.info("event %s already handled; acknowledging Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return skip_retried_events


def _field(value: Any, key: str) -> Any:
    return (value.get(key) or "") if isinstance(value, dict) else ""


class NotFromSlack(Exception):
    """A signed body Slack never sends: Bolt could read it as two kinds, or not at all."""


# The kinds of request Bolt tells apart, decided by Bolt's own tests. Its listeners match
# each kind independently, so a body that passes two tests could reach a listener of
# either kind, whichever was registered first.
BOLT_KINDS: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = (
    ("command", is_slash_command),
    ("action", is_action),
    ("view", is_view),
    ("shortcut", is_shortcut),
    ("options", is_options),
    ("event", is_event),
)


def request_kind(body: dict[str, Any]) -> str | None:
    """The one kind Bolt dispatches `body` as (`command`, `action`, …), None for no kind.

    Raises NotFromSlack for a body of more than one kind, or one Bolt cannot read.
    """
    try:
        kinds = [kind for kind, test in BOLT_KINDS if test(body)]
    except (TypeError, AttributeError):  # e.g. `view` or `event` not an object
        raise NotFromSlack from None
    if len(kinds) > 1:
        raise NotFromSlack
    if is_block_actions(body):
        actions = body["actions"]
        # Bolt matches action listeners on the first action's `action_id`, and fails
        # on anything else.
        first = actions[0] if isinstance(actions, list) and actions else None
        if not isinstance(first, dict) or not isinstance(first.get("action_id"), str):
            raise NotFromSlack
    return kinds[0] if kinds else None


def classify(body: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(kind, name, text, user) of a request that acts on the bot; None for events.

    The kind is the one Bolt dispatches the body as, and `name` the field its listeners
    match on; the user is the one Slack names for that kind (`user_id` of a command,
    `user.id` of an interaction).
    """
    kind = request_kind(body)
    if kind == "command":
        text = str(body.get("text") or "")
        return kind, str(body["command"]), text, str(body.get("user_id"))
    user = str(_field(body.get("user"), "id"))
    if kind == "action":
        if is_block_actions(body):
            return kind, str(body["actions"][0]["action_id"]), "", user
        return kind, str(body.get("callback_id") or ""), "", user  # attachments, dialogs
    if kind == "view":
        return kind, str(_field(body.get("view"), "callback_id")), "", user
    if kind == "shortcut":
        return kind, str(body.get("callback_id") or ""), "", user
    if kind == "options":
        return kind, str(body.get("action_id") or body.get("callback_id") or ""), "", user
    return None


class OnlyWhatSlackSends(Middleware):
    """Refuse a signed body that Bolt would read as more than one kind, or could not read.

    A class, not a function: Bolt prepares a function middleware's arguments from the
    body (the first action among them), which is where an unreadable body would fail.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Answer 400, or let the request go on."""
        try:
            request_kind(req.body)
        except NotFromSlack:
            log.warning("refused a signed request that is not what Slack sends")
            return BoltResponse(status=400, body={"error": "not a request Slack sends"})
        return next()


def make_require_member(services: Services) -> Callable[..., BoltResponse | None]:
    """Only people on the roster act on tickets, and only leads do what leads do.

    This is the one place that decides; listeners find the caller in `context["member"]`.
    """

    def require_member(
        body: dict[str, Any],
        context: BoltContext,
        next: Callable[[], None],
        ack: Ack,
        respond: Respond,
    ) -> BoltResponse | None:
        request = classify(body)
        if request is None:
            next()
            return None
        kind, name, text, user = request
        member = services.roster.member(user)
        needed = required_role(kind, name, text)
        if member is not None and allows(member, needed):
            context["member"] = member
            next()
            return None
        message = NOT_ON_TEAM if member is None else refusal_for(needed)
        log.info("refused %s %s for a caller who may not", kind, name)
        if kind == "command":
            return ack(text=message, response_type="ephemeral")
        if kind == "view":
            return ack(response_action="update", view=notice_modal("Not allowed", message))
        response = ack()
        if body.get("response_url"):  # menus' option requests have none to answer to
            beside(respond, message)
        return response

    return require_member


def make_provide_services(services: Services) -> Callable[..., None]:
    """Hand every listener the bot's services: it asks for them as `services`."""

    def provide_services(context: BoltContext, next: Callable[[], None]) -> None:
        context["services"] = services
        next()

    return provide_services


def register(app: App, services: Services) -> None:
    """Install the middleware: the shape of the body first, then workspace, retries, roster."""
    app.use(OnlyWhatSlackSends())
    app.use(make_provide_services(services))
    app.use(make_only_our_workspace(services.team_id))
    app.use(make_skip_retried_events(services))
    app.use(make_require_member(services))
