"""Memory benchmark: the bot's peak RSS while it ingests a burst of 10,000 tweets.

    python -m bench.memory --tweets 10000

Three child processes of this (small) one: the stand-ins of Slack and X with N mentions
waiting, and two bots against them, one after the other. The first bot is built
(migrations, start-up checks) and stops: the baseline of an idle built bot. The second is
built and ingests the burst in one go, as the first poll after an outage would: one poll
of X (every page, then stored), then draining the posting queue into Slack with the
pacing switched off (post_interval 0), on SQLite. Afterwards the stand-ins check that
Slack shows one card per tweet, in order.

Peak RSS is `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` (KiB on Linux) read after
each bot has ended; the stand-ins' process has not ended then, so it does not count. A
child's ru_maxrss also counts its parent's memory from before `exec` (Linux carries the
high-water mark over), which is why this process imports nothing of the bot and keeps no
data. Each bot also reports VmHWM, the peak of its own address space, as a cross-check.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO, Any

from bench.cards import CardCheck

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 1800


def _kib(maxrss: int) -> int:
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    return maxrss // 1024 if sys.platform == "darwin" else maxrss


def _children_maxrss_kib() -> int:
    return _kib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def memory_status_kib(field: str) -> int | None:
    """A field of /proc/self/status (VmRSS, VmHWM), in KiB; None where there is none."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


# -- the children ------------------------------------------------------------------------


def bot_child(mode: str, *, database_url: str, slack_url: str, x_url: str) -> dict[str, Any]:
    """A bot: build it, ingest (mode `ingest`) or not (`idle`), and report."""
    import gc

    from app import build
    from bench.common import remote_settings

    settings = remote_settings(database_url, slack_url, x_url)
    bot = build(settings, post_interval=0)
    figures: dict[str, Any] = {"mode": mode}
    try:
        gc.collect()
        figures["rss_built_kib"] = memory_status_kib("VmRSS")
        if mode == "ingest":
            started = time.perf_counter()
            result = bot.services.ingest.poll()
            figures["poll_seconds"] = time.perf_counter() - started
            figures["new_tickets"] = len(result.new_tickets)
            figures["rss_after_poll_kib"] = memory_status_kib("VmRSS")
            started = time.perf_counter()
            figures["rows_sent"] = bot.poster.drain()
            figures["drain_seconds"] = time.perf_counter() - started
            figures["rss_after_drain_kib"] = memory_status_kib("VmRSS")
    finally:
        bot.engine.dispose()
    figures["vmhwm_kib"] = memory_status_kib("VmHWM")
    return figures


def stand_ins_child(tweets: int) -> None:
    """The stand-ins: seed, say where they listen, check the cards when asked, then stop."""
    from bench.common import check_cards, seed_mentions, stand_ins

    with stand_ins() as (slack, x):
        tweet_ids = seed_mentions(x, tweets)
        print(json.dumps({"slack_url": slack.base_url, "x_url": x.base_url}), flush=True)
        sys.stdin.readline()  # the bots are done
        check = check_cards(slack, tweet_ids)
        print(json.dumps(dataclasses.asdict(check)), flush=True)


# -- this process --------------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.memory", *args]


def run_bot(mode: str, *, database_url: str, urls: dict[str, str]) -> dict[str, Any]:
    """Run one bot to its end; its report, plus its peak RSS as RUSAGE_CHILDREN saw it."""
    before = _children_maxrss_kib()
    done = subprocess.run(
        _command(
            "--child",
            mode,
            "--database-url",
            database_url,
            "--slack-url",
            urls["slack_url"],
            "--x-url",
            urls["x_url"],
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} bot failed ({done.returncode}):\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    after = _children_maxrss_kib()
    # RUSAGE_CHILDREN keeps the maximum over all children so far: it moved, or this child
    # was smaller than an earlier one (then it cannot tell; say so).
    report["maxrss_kib"] = after if after > before else None
    return report


def _read_json_line(stream: IO[str] | None) -> dict[str, Any]:
    assert stream is not None
    line = stream.readline()
    if not line:
        raise RuntimeError("the stand-ins' process ended early")
    found: dict[str, Any] = json.loads(line)
    return found


@dataclass(frozen=True)
class MemoryFigures:
    """What the benchmark measured (KiB)."""

    tweets: int
    idle: dict[str, Any]
    ingest: dict[str, Any]
    cards: CardCheck

    @property
    def cards_ok(self) -> bool:
        """One card per tweet, in order."""
        return self.cards.ok

    def peak(self, report: dict[str, Any]) -> int:
        """A bot's peak RSS: RUSAGE_CHILDREN's, or its own VmHWM when that could not tell."""
        value = report["maxrss_kib"] or report["vmhwm_kib"]
        return int(value)

    @property
    def extra_kib(self) -> int:
        """Ingest peak over the idle bot's."""
        return self.peak(self.ingest) - self.peak(self.idle)

    @property
    def per_thousand_kib(self) -> float:
        """Peak RSS above the idle bot's, per 1,000 tweets."""
        return self.extra_kib / (self.tweets / 1000)


def measure(tweets: int) -> MemoryFigures:
    """Start the stand-ins, run the idle bot and the ingesting bot, check the cards."""
    with (
        TemporaryDirectory() as workdir,
        subprocess.Popen(
            _command("--stand-ins", "--tweets", str(tweets)),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as stand_ins,
    ):
        try:
            urls = _read_json_line(stand_ins.stdout)
            idle = run_bot("idle", database_url=f"sqlite:///{Path(workdir) / 'i.db'}", urls=urls)
            ingest = run_bot(
                "ingest", database_url=f"sqlite:///{Path(workdir) / 'n.db'}", urls=urls
            )
            assert stand_ins.stdin is not None
            stand_ins.stdin.write("done\n")
            stand_ins.stdin.flush()
            cards = CardCheck(**_read_json_line(stand_ins.stdout))
        finally:
            if stand_ins.stdin is not None:
                stand_ins.stdin.close()  # a child still waiting for "done" reads the end
            stand_ins.wait(timeout=60)
    return MemoryFigures(tweets, idle, ingest, cards)


def _mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:8.1f} MiB"


def report(figures: MemoryFigures) -> None:
    """Print the table."""
    idle, ingest = figures.idle, figures.ingest
    print(
        f"memory: one poll of {figures.tweets} mentions, then draining the queue "
        "(post_interval 0); SQLite; each bot in its own process"
    )
    print(f"{'':<30}{'ru_maxrss':>14}{'VmHWM':>14}{'RSS now':>14}")
    print(
        f"{'idle built bot':<30}{_mib(idle['maxrss_kib']):>14}{_mib(idle['vmhwm_kib']):>14}"
        f"{_mib(idle['rss_built_kib']):>14}"
    )
    print(
        f"{'ingesting bot':<30}{_mib(ingest['maxrss_kib']):>14}{_mib(ingest['vmhwm_kib']):>14}"
        f"{_mib(ingest['rss_after_drain_kib']):>14}"
    )
    print(f"{'  RSS after the poll':<30}{'':>28}{_mib(ingest['rss_after_poll_kib']):>14}")
    print(f"{'peak, ingesting - idle':<30}{_mib(figures.extra_kib):>14}")
    print(f"{'per 1,000 tweets':<30}{_mib(figures.per_thousand_kib):>14}")
    print(
        f"{'ingest took':<30}  poll {ingest['poll_seconds']:.1f} s "
        f"({ingest['new_tickets']} tickets), drain {ingest['drain_seconds']:.1f} s "
        f"({ingest['rows_sent']} posts)"
    )
    print(f"{'cards in Slack':<30}  {figures.cards.describe()}")


def main(argv: list[str] | None = None) -> MemoryFigures | None:
    """Run the benchmark (or, internally, one of its children) and print its figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tweets", type=int, default=10_000, help="size of the burst (10000)")
    parser.add_argument("--child", choices=["idle", "ingest"], help="internal: run one bot")
    parser.add_argument("--stand-ins", action="store_true", help="internal: run the stand-ins")
    parser.add_argument("--database-url", help="internal: the bot's DATABASE_URL")
    parser.add_argument("--slack-url", help="internal: the Slack stand-in's URL")
    parser.add_argument("--x-url", help="internal: the X stand-in's URL")
    args = parser.parse_args(argv)
    if args.tweets < 1:
        parser.error("--tweets must be at least 1")
    if args.stand_ins:
        stand_ins_child(args.tweets)
        return None
    if args.child:
        if not (args.database_url and args.slack_url and args.x_url):
            parser.error("--child needs --database-url, --slack-url and --x-url")
        figures = bot_child(
            args.child, database_url=args.database_url, slack_url=args.slack_url, x_url=args.x_url
        )
        print(json.dumps(figures))
        return None
    result = measure(args.tweets)
    report(result)
    return result


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if figures is None or figures.cards_ok else 1)  # a broken check is no figure
