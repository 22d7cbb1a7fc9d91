"""The `tfexam` command: every browser action from a terminal or an IDE button.

It speaks only the REST API. `serve` and `exams --check` run the server module in this Python
(the service's own commands), everything else goes to the running service.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from plugin_bridge.client import ApiError, Client
from plugin_bridge.render import render_report, render_status

FINAL_STATES = {"graded", "error"}


def find_session(client: Client, explicit: str | None) -> str:
    """The given session, else the one whose project folder holds the current directory, else
    the latest running one."""
    if explicit:
        return explicit
    here = Path.cwd()
    for folder in (here, *here.parents):
        marker = folder / ".tfexam" / "session.json"
        if marker.is_file():
            return str(json.loads(marker.read_text(encoding="utf-8"))["session"])
    running = client.get("/api/sessions", state="running")
    if running:
        return str(running[0]["session"])
    raise ApiError(0, "No running session: start one with 'tfexam start EXAM --workspace DIR'.")


def cmd_serve(args: argparse.Namespace, _: Client) -> int:
    command = [sys.executable, "-m", "server", "serve", "--host", args.host,
               "--port", str(args.port)]
    if args.home:
        command += ["--home", args.home]
    if args.no_browser:
        command.append("--no-browser")
    if args.no_token:
        command.append("--no-token")
    if os.name == "posix":
        os.execv(sys.executable, command)
    return subprocess.call(command)


def cmd_exams(args: argparse.Namespace, client: Client) -> int:
    if args.check:
        return subprocess.call([sys.executable, "-m", "server", "check-exams"])
    exams = client.get("/api/exams")
    if args.json:
        print(json.dumps(exams, indent=2))
        return 0
    for exam in exams:
        print(f"{exam['id']:<16} {exam['duration_minutes']:>5g} min  {exam['title']}")
        for q in exam["questions"]:
            print(f"  {q['id']:<12} weight {q['weight']:g}  {q['title']} "
                  f"({' | '.join(q['variants'])})")
    return 0


def cmd_start(args: argparse.Namespace, client: Client) -> int:
    body: dict[str, Any] = {"exam": args.exam, "workspace": str(Path(args.workspace).resolve())}
    if args.minutes is not None:
        body["minutes"] = args.minutes
    started = client.post("/api/sessions", body)
    print(f"session {started['session']}")
    print(f"project {started['project_dir']}")
    print(f"deadline {started['deadline']}")
    return 0


def cmd_status(args: argparse.Namespace, client: Client) -> int:
    status = client.get(f"/api/sessions/{find_session(client, args.session)}")
    print(json.dumps(status, indent=2) if args.json else render_status(status))
    return 0


def cmd_submit(args: argparse.Namespace, client: Client) -> int:
    session = find_session(client, args.session)
    queued = client.post(f"/api/sessions/{session}/questions/{args.question}/submit")
    submission = queued["submission"]
    if not args.wait:
        print(f"{args.question}: submission {submission} queued for grading")
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        found = client.get(f"/api/sessions/{session}/submissions/{submission}")
        if found.get("state") == "superseded" and found.get("superseded_by"):
            # A later save of the same question replaced it: its grading is the one to wait for.
            submission = found["superseded_by"]
            print(f"{args.question}: a newer save replaced that submission; waiting for "
                  f"submission {submission}", file=sys.stderr)
            continue
        if found["result"] is not None:
            result = found["result"]
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                value = "" if result.get("value") is None else (
                    f" ({result['metric']} = {result['value']:.4g})")
                print(f"{args.question}: {result['score']}/5{value}")
                for message in result["messages"]:
                    print(f"  {message}")
            return 0
        time.sleep(0.3)
    print(f"{args.question}: still grading after {args.timeout:g} s; see 'tfexam status'.")
    return 1


def cmd_finish(args: argparse.Namespace, client: Client) -> int:
    status = client.post(f"/api/sessions/{find_session(client, args.session)}/finish")
    print(render_status(status))
    return 0


def cmd_report(args: argparse.Namespace, client: Client) -> int:
    report = client.get(f"/api/sessions/{find_session(client, args.session)}/report")
    print(json.dumps(report, indent=2) if args.json else render_report(report))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tfexam", description="A local mock of the TensorFlow "
                                   "Developer Certificate exam.")
    root.add_argument("--url", default=None, help="service address (TFEXAM_URL; default "
                      "http://127.0.0.1:8765)")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--home", default=None)
    serve.add_argument("--no-browser", action="store_true")
    serve.add_argument("--no-token", action="store_true",
                       help="accept requests without the service's token")
    serve.set_defaults(run=cmd_serve)

    exams = sub.add_parser("exams", help="list the exams")
    exams.add_argument("--check", action="store_true", help="validate every template")
    exams.add_argument("--json", action="store_true")
    exams.set_defaults(run=cmd_exams)

    start = sub.add_parser("start", help="start a timed exam")
    start.add_argument("exam")
    start.add_argument("--workspace", required=True, help="new or empty folder for the project")
    start.add_argument("--minutes", type=float, default=None, help="practice length")
    start.set_defaults(run=cmd_start)

    for name, run, text in (("status", cmd_status, "time left and scores"),
                            ("finish", cmd_finish, "submit the exam"),
                            ("report", cmd_report, "the report")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--session", default=None)
        if name != "finish":
            command.add_argument("--json", action="store_true")
        command.set_defaults(run=run)

    submit = sub.add_parser("submit", help="Submit and Test one question")
    submit.add_argument("question")
    submit.add_argument("--session", default=None)
    submit.add_argument("--wait", action="store_true", help="wait for the score")
    submit.add_argument("--timeout", type=float, default=600.0)
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(run=cmd_submit)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client = Client(args.url)
    try:
        return int(args.run(args, client))
    except ApiError as error:
        print(f"tfexam: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
