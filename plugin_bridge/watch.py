"""`tfexam watch`: the session live in a terminal, fed by the service's event stream.

A reader thread follows the stream (and reconnects after the last event it saw when the service
goes away); the main thread redraws from the status that every event carries, and carries the time
left forward on the monotonic clock between events. On a terminal it draws with rich; piped, it
prints one line per change, so a log or a test can follow it too.
"""

from __future__ import annotations

import queue
import threading
import time
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from plugin_bridge.client import Client
from plugin_bridge.errors import CliError
from plugin_bridge.render import clock, question_mark, render_summary, time_line

RECONNECT_SECONDS = 2.0
STATE_STYLE = {"graded": "green", "error": "red", "grading": "yellow", "waiting": "yellow",
               "none": "dim"}


def _seconds(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class _Reader(threading.Thread):
    """Puts ("status", dict) for every event and ("down", sentence) when the stream is lost."""

    def __init__(self, client: Client, session: str, inbox: queue.Queue[tuple[str, Any]]) -> None:
        super().__init__(daemon=True)
        self.client, self.session, self.inbox = client, session, inbox
        self.after = 0

    def run(self) -> None:
        while True:
            try:
                # A fresh status first: it clears a "not reachable" line after a reconnect.
                self.inbox.put(("status", self.client.get(f"/api/sessions/{self.session}")))
                for event in self.client.events(self.session, self.after):
                    self.after = event.id
                    if isinstance(event.data.get("status"), dict):
                        self.inbox.put(("status", event.data["status"]))
                self.inbox.put(("down", f"the event stream of {self.client.url} ended; "
                                "reconnecting…"))
            except CliError as why:
                self.inbox.put(("down", str(why)))
            time.sleep(RECONNECT_SECONDS)


class _Screen:
    """What is drawn: the status at the last event and the monotonic time it arrived."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.problem: str | None = None
        self.set(status)

    def set(self, status: dict[str, Any]) -> None:
        self.status = status
        self.synced = time.monotonic()
        started, deadline = _seconds(status.get("started_at")), _seconds(status.get("deadline"))
        self.duration = (deadline - started) if started and deadline else None

    def remaining(self) -> float:
        if self.status["state"] != "running":
            return 0.0
        left = float(self.status["remaining_seconds"]) - (time.monotonic() - self.synced)
        return max(0.0, left)

    def finished(self) -> bool:
        return self.status["state"] == "submitted" and not self.status.get("grading_pending")

    def marks(self) -> str:
        """The line without the clock: it changes only when something happened."""
        return time_line({**self.status, "remaining_seconds": 0}).split(" · ", 1)[-1]

    def draw(self) -> Group:
        s = self.status
        left = self.remaining()
        head = Text(f"{s['exam_title']} — session {s['session']}", style="bold")
        bar = Table.grid(padding=(0, 1))
        if s["state"] == "running":
            total = self.duration or max(left, 1.0)
            style = "red" if left <= 600 else "yellow" if left <= 1800 else "green"
            bar.add_row(ProgressBar(total=total, completed=total - left, width=40,
                                    complete_style=style),
                        Text(f"{clock(left)} left", style=f"bold {style}"))
        else:
            bar.add_row(Text(f"submitted ({s.get('submit_reason') or 'done'})", style="bold"))
        table = Table(box=None, pad_edge=False)
        for name in ("question", "score", "state", "message"):
            table.add_column(name)
        for q in s["questions"]:
            table.add_row(q["id"], question_mark(q) if q["state"] not in ("waiting", "grading")
                          else ("–" if q["score"] is None else f"{q['score']}/5"),
                          Text(q["state"], style=STATE_STYLE.get(q["state"], "")),
                          q["message"])
        foot = Text(f"total {s['total']:.1f}% · pass mark {s['pass_mark']:.0f}%")
        parts: list[Any] = [head, bar, table, foot]
        if self.problem:
            parts.append(Text(self.problem, style="red"))
        return Group(*parts)


def watch(client: Client, session: str, console: Console) -> dict[str, Any]:
    """Follows the session until it is submitted and graded; returns the report."""
    screen = _Screen(client.get(f"/api/sessions/{session}"))
    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
    _Reader(client, session, inbox).start()
    interactive = console.is_terminal
    printed = ""

    def take(timeout: float) -> None:
        try:
            kind, value = inbox.get(timeout=timeout)
        except queue.Empty:
            return
        if kind == "status":
            screen.set(value)
            screen.problem = None
        else:
            screen.problem = value

    if interactive:
        with Live(screen.draw(), console=console, refresh_per_second=4, transient=False) as live:
            while not screen.finished():
                take(1.0)
                live.update(screen.draw())
    else:
        while True:
            line = screen.marks() if not screen.problem else screen.problem
            if line != printed:
                console.print(time_line(screen.status) if not screen.problem else line,
                              highlight=False, soft_wrap=True)
                printed = line
            if screen.finished():
                break
            take(1.0)
    report: dict[str, Any] = client.get(f"/api/sessions/{session}/report")
    console.print(render_summary(report), highlight=False, soft_wrap=True)
    return report
