"""Drive Servicekanal by hand against the Slack and X stand-ins (demos, training, trying out).

    python -m tests.fakes.demo            # starts the stand-ins and the bot, then a prompt

At the prompt (`help` lists it all):

    tweet karl_k Mein DSL ist weg          a customer mentions the brand
    answer karl_k Immer noch weg           the customer answers in their conversation
    as U0LEAD /team add <@U0ANNA|anna> agent AS
    as U0ANNA /claim 1                     any slash command, signed like Slack's
    click U0ANNA ticket_resolve 1          a card button
    note U0ANNA 1 Techniker informiert     a message in ticket #1's thread
    channel                                the support channel: cards and threads
    x                                      what the brand account posted on X

People in the stand-in workspace: U0LEAD (lead, from ADMIN_USER_IDS), U0ANNA, U0BEN, U0TOM,
U0EVE. The bot's settings are written to `.env.demo` in the working directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from standins import slack_api, x_api
from standins.http import wait_for
from standins.signing import SIGNING_SECRET, form_body, json_body, payload_body, post, sign
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def env_lines(slack: SlackStandIn, x: XStandIn, port: int, database: str) -> list[str]:
    """The .env of a bot that talks to the stand-ins."""
    return [
        f"SLACK_BOT_TOKEN={slack_api.BOT_TOKEN}",
        f"SLACK_SIGNING_SECRET={SIGNING_SECRET}",
        f"SLACK_API_URL={slack.base_url}/api/",
        "SUPPORT_CHANNEL_ID=CSUPPORT1",
        "ESCALATION_CHANNEL_ID=CESCALATE",
        f"ADMIN_USER_IDS={slack_api.LEAD}",
        f"X_BEARER_TOKEN={x_api.BEARER}",
        f"X_API_KEY={x_api.API_KEY}",
        "X_API_SECRET=demo-secret",
        f"X_ACCESS_TOKEN={x_api.ACCESS_TOKEN}",
        "X_ACCESS_TOKEN_SECRET=demo-access-secret",
        f"X_API_URL={x.base_url}",
        "POLL_INTERVAL_SECONDS=2",
        "SWEEP_INTERVAL_SECONDS=5",
        f"PORT={port}",
        f"DATABASE_URL={database}",
    ]


class Demo:
    """The prompt's commands."""

    def __init__(self, slack: SlackStandIn, x: XStandIn, bot_url: str, out: TextIO) -> None:
        self.slack, self.x, self.bot_url, self.out = slack, x, bot_url, out
        self._event = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def customer(self, handle: str) -> dict[str, Any]:
        return self.x.user_by_name(handle) or self.x.add_user(
            handle, handle.replace("_", " ").title()
        )

    def do_tweet(self, handle: str, *words: str) -> None:
        """tweet <handle> <text>: a customer mentions the brand."""
        tweet = self.x.mention(self.customer(handle), " ".join(words))
        self.say(f"@{handle} tweeted {tweet['id']}")

    def do_answer(self, handle: str, *words: str) -> None:
        """answer <handle> <text>: the customer replies in their newest conversation."""
        user = self.customer(handle)
        with self.x.lock:
            theirs = [t for t in self.x.state.tweets.values() if t["author_id"] == user["id"]]
            if not theirs:
                self.say(f"@{handle} has not tweeted yet")
                return
            conversation = theirs[-1]["conversation_id"]
            newest = max(
                (t for t in self.x.state.tweets.values() if t["conversation_id"] == conversation),
                key=lambda t: int(t["id"]),
            )
        self.x.tweet(user, " ".join(words), reply_to=newest)
        self.say(f"@{handle} answered in conversation {conversation}")

    def _send(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        return post(
            f"{self.bot_url}/slack/events", body, {"Content-Type": content_type, **sign(body)}
        )

    def _responses(self, url: str) -> None:
        path = "/" + url.split("/", 3)[3]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self.slack.lock:
                found = [r for r in self.slack.responses if r["url"] == path]
            if found:
                for response in found:
                    self.say(f"  bot: {response.get('text', '')}")
                return
            time.sleep(0.05)

    def do_as(self, user: str, command: str, *words: str) -> None:
        """as <user> /command <text>: a slash command from a workspace member."""
        response_url = self.slack.response_url()
        fields = {
            "team_id": slack_api.TEAM_ID,
            "channel_id": "CSUPPORT1",
            "user_id": user,
            "command": command,
            "text": " ".join(words),
            "response_url": response_url,
            "trigger_id": self.slack.new_trigger_id(),
        }
        status, body = self._send(form_body(fields), "application/x-www-form-urlencoded")
        if body.strip():
            self.say(f"  bot: {json.loads(body).get('text', '')}")
        elif status == 200:
            self._responses(response_url)
        else:
            self.say(f"  HTTP {status}")

    def do_click(self, user: str, action_id: str, ticket: str) -> None:
        """click <user> <action_id> <ticket>: press a card button."""
        response_url = self.slack.response_url()
        payload = {
            "type": "block_actions",
            "team": {"id": slack_api.TEAM_ID},
            "user": {"id": user},
            "trigger_id": self.slack.new_trigger_id(),
            "response_url": response_url,
            "channel": {"id": "CSUPPORT1"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "value": ticket,
                    "text": {"type": "plain_text", "text": action_id},
                }
            ],
        }
        self._send(payload_body(payload), "application/x-www-form-urlencoded")
        self._responses(response_url)

    def do_note(self, user: str, ticket: str, *words: str) -> None:
        """note <user> <ticket> <text>: write into a ticket's thread."""
        card = self.slack.card(int(ticket))
        self._event += 1
        body = {
            "type": "event_callback",
            "team_id": slack_api.TEAM_ID,
            "event_id": f"EvDemo{self._event}",
            "event": {
                "type": "message",
                "channel": "CSUPPORT1",
                "user": user,
                "text": " ".join(words),
                "ts": f"{time.time():.6f}",
                "thread_ts": card.ts,
            },
        }
        self._send(json_body(body), "application/json")
        self.say("  written")

    def do_channel(self) -> None:
        """channel: the support channel, cards with their threads."""
        for message in self.slack.messages("CSUPPORT1"):
            self.say(f"[{message.ts}] {message.text}")
            for reply in message.replies:
                self.say(f"    ↳ {reply.text}")

    def do_x(self) -> None:
        """x: what the brand account posted."""
        for tweet in self.x.brand_tweets():
            self.say(f"{tweet['id']}: {tweet['text']}")

    def do_help(self) -> None:
        """help: this list."""
        for name in sorted(n for n in dir(self) if n.startswith("do_")):
            self.say("  " + (getattr(self, name).__doc__ or name))

    def run(self, line: str) -> bool:
        """Carry out one line; False to quit."""
        parts = shlex.split(line)
        if not parts:
            return True
        if parts[0] in ("quit", "exit"):
            return False
        handler = getattr(self, "do_" + parts[0], None)
        if handler is None:
            self.say(f"unknown: {parts[0]} (try help)")
            return True
        try:
            handler(*parts[1:])
        except (TypeError, ValueError, AssertionError, KeyError) as exc:
            self.say(f"  ? {exc}")
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--script", type=Path, help="read the commands from this file instead of the prompt"
    )
    parser.add_argument("--database", default="sqlite:///demo.db")
    args = parser.parse_args(argv)
    slack, x = SlackStandIn(), XStandIn()
    slack.start()
    x.start()
    port = free_port()
    env_file = Path(".env.demo")
    env_file.write_text("\n".join(env_lines(slack, x, port, args.database)) + "\n")
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in list(environ):
        if name.startswith(("SLACK_", "X_")):
            del environ[name]
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--env-file", str(env_file)], env=environ
    )
    demo = Demo(slack, x, f"http://127.0.0.1:{port}", sys.stdout)
    try:
        wait_for(lambda: _up(port), timeout=30)
        demo.say(f"bot on port {port}; stand-ins: Slack {slack.base_url}, X {x.base_url}")
        lines = args.script.read_text().splitlines() if args.script else None
        while True:
            if lines is not None:
                if not lines:
                    break
                line = lines.pop(0)
                demo.say(f"> {line}")
            else:
                try:
                    line = input("> ")
                except EOFError:
                    break
            if line.startswith("sleep "):
                time.sleep(float(line.split()[1]))
                continue
            if not demo.run(line):
                break
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        slack.stop()
        x.stop()
    return 0


def _up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
