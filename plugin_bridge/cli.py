"""The `tfexam` command: every browser action from a terminal or an IDE button.

It speaks only the REST API and the event stream. `serve` and `exams --check` run the server module
in this Python (the service's own commands); everything else goes to the running service, found
through the project's `.tfexam/session.json` when run inside a project (see `project.py`).
Each command is one function whose docstring is its help. Every failure is one sentence on stderr
and an exit code: 0 ok, 1 the service could not do it as the exam stands, 2 usage (the command
line itself is wrong), 3 no such session, 4 the service is unreachable (see `errors.py`).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from plugin_bridge.browser_handoff import handoff_page
from plugin_bridge.client import Client
from plugin_bridge.errors import (
    EXIT_FAILED,
    EXIT_NO_SESSION,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ApiError,
    CliError,
    NoSuchSession,
    ServiceUnreachable,
    UsageError,
)
from plugin_bridge.learner_keras import project_env
from plugin_bridge.project import Target, find_project, resolve_target
from plugin_bridge.render import clock, render_report, render_status, time_line

EXIT_CODES = (f"exit codes: {EXIT_OK} ok · {EXIT_FAILED} the service could not do it as the "
              f"exam stands (nothing saved, exam over, still grading) · {EXIT_USAGE} usage (bad "
              f"arguments or settings) · {EXIT_NO_SESSION} no such session · "
              f"{EXIT_UNREACHABLE} service unreachable")
START_TIMEOUT = None  # preparing data may take minutes on a fresh machine: wait as long as it takes


class Context:
    """What every command gets: the service (proven to be tfexam on first use) and the project."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.target: Target = resolve_target(args.url)
        project = self.target.project
        classroom = project is not None and project.data.get("classroom") is True
        self.client = Client(self.target.url, self.target.token,
                             session=project.session if classroom and project else None)

    @property
    def own_folder(self) -> Path | None:
        """A joined (classroom) project's folder here: the status names the service's copy."""
        project = self.target.project
        return project.root if project and project.data.get("classroom") is True else None

    def session(self) -> str:
        """The given session, else the project's, else the latest running one."""
        explicit = getattr(self.args, "session", None)
        if explicit:
            return self._existing(explicit)
        if self.target.project:
            return self._existing(self.target.project.session)
        running = self.client.get("/api/sessions", state="running")
        if running:
            return str(running[0]["session"])
        raise NoSuchSession("No running session here: start one with 'tfexam start EXAM "
                            "--workspace DIR', or run this inside an exam's project folder.")

    def _existing(self, session: str) -> str:
        self.status(session)
        return session

    def status(self, session: str) -> dict[str, Any]:
        try:
            status: dict[str, Any] = self.client.get(f"/api/sessions/{session}")
            return status
        except ApiError as error:
            if error.status == 404:
                raise NoSuchSession(f"The service at {self.client.url} has no session "
                                    f"{session!r}; 'tfexam status' lists the running one.") from error
            raise


# the commands, one function each ------------------------------------------------------------

def cmd_serve(ctx: Context) -> int:
    """Run the tfexam service (the API, the pages and the grader) on this machine.

    It prints the address to open, with a one-time code that lets the browser in."""
    args = ctx.args
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


def cmd_join(ctx: Context) -> int:
    """Join a classroom sitting: make its project here, then upload every complete save.

    The instructor gives the service's address and a join code. The project folder is made from
    the exam's template (default: ./<exam>-<code>); the exam page, the CLI and the IDE buttons
    then work against the central service. The command keeps watching the folder until the exam
    ends (Ctrl+C stops it; 'tfexam sync' inside the folder resumes). A save counts when it
    reaches the service before the deadline, by the service's clock."""
    from plugin_bridge.agent import join

    args = ctx.args
    folder = Path(args.folder or f"{args.code.strip().upper()}-project")
    meta = join(args.url_arg, args.code, args.name or os.environ.get("USER") or "learner", folder)
    print(f"Joined {meta['exam']} as {meta['name']}: project in {folder.resolve()}, deadline "
          f"{meta['deadline']} (the service's clock). The exam page: 'tfexam open' in that "
          "folder.", flush=True)
    data_ok = _bring_data(folder.resolve())
    if args.open:
        _open_page(Client(meta["server"], meta["token"], session=meta["session"]),
                   f"/sessions/{meta['session']}")
    if args.no_watch:
        return 0 if data_ok else EXIT_FAILED
    return _sync(folder.resolve())


def cmd_sync(ctx: Context) -> int:
    """Upload every complete save of a joined project to the classroom service, until the exam
    ends (run inside the folder 'tfexam join' made; Ctrl+C stops)."""
    project = find_project(Path(ctx.args.folder) if ctx.args.folder else None)
    if project is None:
        raise NoSuchSession("This is not inside a project made by 'tfexam join'; cd into it or "
                            "pass --folder.")
    if project.data.get("classroom"):
        _bring_data(project.root)
    return _sync(project.root)


def _bring_data(root: Path) -> bool:
    """The data sets the starters read from Keras' cache, from the service into this machine's
    cache (verified, resumable; a failure is a sentence and the watching goes on)."""
    from plugin_bridge.keras_data import bring_keras_data

    return bring_keras_data(root, report=lambda line: print(line, flush=True),
                            complain=lambda line: print(line, file=sys.stderr, flush=True))


def _sync(root: Path) -> int:
    from plugin_bridge.agent import Uploader

    uploader = Uploader.of_project(root)
    print(f"Watching {root}: every complete save is uploaded.", flush=True)
    try:
        uploader.run(report=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_worker(ctx: Context) -> int:
    """Grade for a classroom service (a Celery worker; TFEXAM_DATABASE_URL, TFEXAM_BROKER_URL).

    Run as many as the cohort needs, on any machine that shares the service's home folder."""
    args = ctx.args
    command = [sys.executable, "-m", "server", "worker", "--concurrency", str(args.concurrency)]
    if args.home:
        command += ["--home", args.home]
    if args.name:
        command += ["--name", args.name]
    if os.name == "posix":
        os.execv(sys.executable, command)
    return subprocess.call(command)


def cmd_sittings(ctx: Context) -> int:
    """List a classroom service's sittings (the instructor: the service's token in TFEXAM_TOKEN,
    or on its machine); with --new EXAM, create one and print its join code.

    Hand the join code to the learners ('tfexam join URL CODE'); 'tfexam open --sitting ID'
    opens a sitting's live page."""
    args = ctx.args
    if args.new:
        body: dict[str, Any] = {"exam": args.new, "opens_in_minutes": args.opens_in,
                                "window_minutes": args.window}
        if args.title:
            body["title"] = args.title
        if args.minutes is not None:
            body["minutes"] = args.minutes
        made = ctx.client.post("/api/classroom/sittings", body)
        if args.json:
            print(json.dumps(made, indent=2))
        else:
            print(f"sitting {made['id']}  {made['title']}")
            print(f"join code {made['join_code']}  (learners: tfexam join {ctx.client.url} "
                  f"{made['join_code']})")
            print(f"joining {made['opens_at']} to {made['closes_at']}, {made['minutes']:g} min each")
        return EXIT_OK
    sittings = ctx.client.get("/api/classroom/sittings")
    if args.json:
        print(json.dumps(sittings, indent=2))
        return EXIT_OK
    if not sittings:
        print("No sittings yet: create one with 'tfexam sittings --new EXAM'.")
    for sitting in sittings:
        print(f"{sitting['id']}  {sitting['join_code']}  {sitting['exam']:<14} "
              f"{sitting['opens_at']} to {sitting['closes_at']}  {sitting['minutes']:g} min  "
              f"{sitting['title']}")
    return EXIT_OK


def cmd_exams(ctx: Context) -> int:
    """List the exams this service can set, and whether each one's data is here.

    With --check, validate every exam template and say, for each exam, which data set is missing,
    where tfexam looked and the one thing to do."""
    if ctx.args.check:
        return _check_exams(ctx)
    exams = ctx.client.get("/api/exams")
    if ctx.args.json:
        print(json.dumps(exams, indent=2))
        return EXIT_OK
    for exam in exams:
        ready = "" if exam.get("available", True) else "  (data missing: see 'tfexam exams --check')"
        print(f"{exam['id']:<16} {exam['duration_minutes']:>5g} min  {exam['title']}{ready}")
        for q in exam["questions"]:
            print(f"  {q['id']:<12} weight {q['weight']:g}  {q['title']} "
                  f"({' | '.join(q['variants'])})")
    return EXIT_OK


def _check_exams(ctx: Context) -> int:
    quick = ["--quick"] if ctx.args.quick else []
    templates = subprocess.call([sys.executable, "-m", "server", "check-exams", *quick])
    try:
        exams = ctx.client.get("/api/exams")
    except ServiceUnreachable as why:
        print(f"data sets: not checked ({why})")
        return templates or EXIT_UNREACHABLE
    missing_any = False
    for line in availability_lines(exams):
        print(line)
    missing_any = any(exam.get("available") is False for exam in exams)
    return templates or (EXIT_FAILED if missing_any else EXIT_OK)


def availability_lines(exams: list[dict[str, Any]]) -> list[str]:
    """Contract 3's fields as text: each exam's availability, and for each missing data set the
    variants it serves, where tfexam looked and the fix."""
    lines = []
    for exam in exams:
        if "available" not in exam:
            lines.append(f"{exam['id']}: this service does not report data availability")
            continue
        lines.append(f"{exam['id']}: {'data here' if exam['available'] else 'data missing'}")
        for item in exam.get("missing") or []:
            lines.append(f"  missing {item.get('dataset')} (for {', '.join(item.get('variants') or [])})")
            for place in item.get("looked_in") or []:
                lines.append(f"    looked in {place}")
            if item.get("fix"):
                lines.append(f"    fix: {item['fix']}")
    return lines


def cmd_start(ctx: Context) -> int:
    """Start a timed exam: create its project folder (questions, starters, data, IDE files).

    Preparing data can take minutes on a machine's first start; the command shows that it is
    working and waits as long as it takes."""
    args = ctx.args
    body: dict[str, Any] = {"exam": args.exam, "workspace": str(Path(args.workspace).resolve())}
    if args.minutes is not None:
        body["minutes"] = args.minutes
    if args.keras is not None:
        body["keras"] = args.keras
    ctx.client.check()
    started = _with_progress(f"Preparing {args.exam}: drawing questions and their data",
                             lambda: ctx.client.post("/api/sessions", body, timeout=START_TIMEOUT))
    print(f"session {started['session']}")
    print(f"project {started['project_dir']}")
    print(f"deadline {started['deadline']}")
    print(f"Open {started['project_dir']} in your IDE; 'tfexam time' there shows the time left.",
          file=sys.stderr)
    return EXIT_OK


def _with_progress(what: str, work: Callable[[], Any], first_notice: float = 2.0,
                   every: float = 15.0) -> Any:
    """Runs `work` in a thread while stderr shows that it is still going (a spinner with the
    seconds on a terminal, a line every 15 s otherwise)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    began = time.monotonic()
    worker.start()
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        with console.status(what + "…") as status:
            while worker.is_alive():
                worker.join(0.25)
                status.update(f"{what}… {time.monotonic() - began:.0f} s")
    else:
        worker.join(first_notice)
        if worker.is_alive():
            print(f"{what}…", file=sys.stderr, flush=True)
        while worker.is_alive():
            worker.join(every)
            if worker.is_alive():
                print(f"  still working after {time.monotonic() - began:.0f} s", file=sys.stderr,
                      flush=True)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def cmd_run(ctx: Context) -> int:
    """Run a script in a question's folder in the session's Keras (the project's .env applied).

    The script (default: the question's starter.py; else a path from here or from the question's
    folder) runs in the question's folder, so mymodel.h5 is saved where it is graded, with the
    Python tfexam runs on (it has TensorFlow and the exam's packages) unless --python names
    another. The exit code is the script's."""
    args = ctx.args
    project = ctx.target.project
    if project is None:
        raise UsageError("'tfexam run' works inside an exam's project folder: cd there first.")
    folder = project.root / args.question
    if not folder.is_dir():
        raise UsageError(f"This project has no question folder {args.question!r}; its questions "
                         f"are {', '.join(sorted(project.data.get('questions') or {})) or 'none'}.")
    script = Path(args.script or "starter.py")
    if args.script is None or not script.is_file():
        script = folder / script
    if not script.is_file():
        raise UsageError(f"There is no script {args.script or 'starter.py'} here or in "
                         f"{folder}; give its path.")
    env = {**os.environ, **project_env(project.root)}
    command = [args.python or sys.executable, str(script.resolve()), *args.args]
    try:
        return subprocess.call(command, cwd=folder, env=env)
    except OSError as why:
        raise UsageError(f"{command[0]} could not be run ({why.strerror}); give a Python with "
                         "--python.") from why


def cmd_status(ctx: Context) -> int:
    """Time left and each question's state and score."""
    status = ctx.status(ctx.session())
    print(json.dumps(status, indent=2) if ctx.args.json else render_status(status, ctx.own_folder))
    return EXIT_OK


def cmd_time(ctx: Context) -> int:
    """One short line for status bars and prompts:
    `3:12:05 left · C1 5/5 · C2 4/5 · C3 – · C4 grading · C5 –`."""
    print(time_line(ctx.status(ctx.session())))
    return EXIT_OK


def cmd_watch(ctx: Context) -> int:
    """Follow the session live: a bar for the time left, each question's state and score as grades
    arrive, and the report's summary when the exam is over. Ctrl-C stops watching (the exam goes
    on)."""
    from rich.console import Console

    from plugin_bridge.watch import watch

    session = ctx.session()
    try:
        watch(ctx.client, session, Console())
    except KeyboardInterrupt:
        print("Stopped watching; the exam goes on.", file=sys.stderr)
    return EXIT_OK


def cmd_open(ctx: Context) -> int:
    """Open the exam page of the session in the web browser (the instructor: --sitting ID opens
    that sitting's page on a classroom service).

    The browser gets a one-time code (spent on first use, dead within minutes), never the token,
    and gets it from a private file: its command line is visible to every user in `ps`. On a
    classroom service the code acts for whoever asked: the learner in a joined project, the
    instructor with the service's token."""
    sitting = getattr(ctx.args, "sitting", None)
    path = f"/instructor/sittings/{sitting}" if sitting else f"/sessions/{ctx.session()}"
    return _open_page(ctx.client, path)


def _open_page(client: Client, path: str) -> int:
    page = f"{client.url}{path}"
    address = opened = page
    if client.token:
        address += f"?code={client.post('/api/browser-codes')['code']}"
        opened = handoff_page(address).as_uri()
    if webbrowser.open(opened):
        print(f"Opened {page} in the web browser.")
    else:
        print(f"No web browser could be started here: open {address}")
    return EXIT_OK


def cmd_submit(ctx: Context) -> int:
    """Submit and Test one question: grade its current model file now (the real exam's button).

    With --wait, print the score and the messages once graded, following a later save that
    replaced this submission."""
    args = ctx.args
    session = ctx.session()
    queued = ctx.client.post(f"/api/sessions/{session}/questions/{args.question}/submit")
    submission = queued["submission"]
    if not args.wait:
        print(f"{args.question}: submission {submission} queued for grading")
        return EXIT_OK
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        found = ctx.client.get(f"/api/sessions/{session}/submissions/{submission}")
        if found.get("state") == "superseded" and found.get("superseded_by"):
            # A later save of the same question replaced it: its grading is the one to wait for.
            submission = found["superseded_by"]
            print(f"{args.question}: a newer save replaced that submission; waiting for "
                  f"submission {submission}", file=sys.stderr)
            continue
        if found["result"] is not None:
            _print_result(args.question, found["result"], args.json)
            return EXIT_OK
        time.sleep(0.3)
    print(f"{args.question}: still grading after {args.timeout:g} s; see 'tfexam status'.",
          file=sys.stderr)
    return EXIT_FAILED


def _print_result(question: str, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    value = "" if result.get("value") is None else f" ({result['metric']} = {result['value']:.4g})"
    print(f"{question}: {result['score']}/5{value}")
    for message in result["messages"]:
        print(f"  {message}")
    for warning in result.get("warnings") or []:
        print(f"  warning: {warning}")


def cmd_finish(ctx: Context) -> int:
    """Submit the exam now: models saved afterwards do not count (harmless twice).

    It asks first, as the exam page does, and says which questions have no graded model yet;
    --yes answers for scripts. Without --yes and with nothing to answer (no terminal, an empty
    input), nothing is submitted."""
    session = ctx.session()
    status = ctx.status(session)
    if status["state"] == "running" and not ctx.args.yes and not _confirm_finish(status):
        print("Not finished: the exam goes on.", file=sys.stderr)
        return EXIT_FAILED
    status = ctx.client.post(f"/api/sessions/{session}/finish")
    print(render_status(status, ctx.own_folder))
    return EXIT_OK


def _confirm_finish(status: dict[str, Any]) -> bool:
    """The page's dialog as a question on the terminal; only "y" or "yes" finishes."""
    missing = [q["id"] for q in status["questions"] if q.get("score") is None]
    print(f"Finish {status['exam_title']} now, with {clock(status['remaining_seconds'])} left? "
          "Your models are submitted as they are and files saved afterwards do not count.",
          file=sys.stderr)
    if missing:
        print(f"Not graded yet: {', '.join(missing)} (a question with no graded model scores 0).",
              file=sys.stderr)
    print("Finish the exam? [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        print(file=sys.stderr)  # end the question's line: the sentence gets one of its own
        raise UsageError("tfexam finish needs an answer: type y at its question, or pass --yes "
                         "(for scripts).") from None
    return answer.strip().lower() in ("y", "yes")


def cmd_report(ctx: Context) -> int:
    """The report: pass or not, each question's score, its reasons and what to study next."""
    report = ctx.client.get(f"/api/sessions/{ctx.session()}/report")
    print(json.dumps(report, indent=2) if ctx.args.json else render_report(report))
    return EXIT_OK


def cmd_doctor(ctx: Context) -> int:
    """Check this machine as the real exam's set-up guide did: Python, TensorFlow, Keras and
    tf_keras, the service, each data set and where it comes from, free disk, whether model files
    are sandboxed here, and the project's IDE files. Ends with a verdict line."""
    from plugin_bridge.doctor import run_doctor

    return run_doctor(ctx.client, ctx.target)


# the parser ---------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Bad arguments are one sentence and exit code 2, like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"tfexam: {message}; see '{self.prog} --help'.\n")


def _command(sub: Any, run: Callable[[Context], int], *, session: bool = False,
             as_json: bool = False) -> argparse.ArgumentParser:
    """A subcommand whose help is its function's docstring, with the shared options it takes."""
    doc = inspect.cleandoc(run.__doc__ or "")
    name = run.__name__.removeprefix("cmd_")
    summary = doc.split("\n\n")[0].replace("\n", " ")
    command: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if session:
        command.add_argument("--session", default=None,
                             help="session id (default: this project's, else the running one)")
    if as_json:
        command.add_argument("--json", action="store_true", help="print the service's JSON")
    command.set_defaults(run=run)
    return command


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="tfexam", description="A local mock of the TensorFlow Developer "
                   "Certificate exam.", epilog=EXIT_CODES)
    root.add_argument("--url", default=None, help="service address (else TFEXAM_URL, else the "
                      "project's .tfexam/session.json, else http://127.0.0.1:8765)")
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = _command(sub, cmd_serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--home", default=None)
    serve.add_argument("--no-browser", action="store_true")
    serve.add_argument("--no-token", action="store_true",
                       help="accept requests without the service's token")

    joining = _command(sub, cmd_join)
    joining.add_argument("url_arg", metavar="url", help="the classroom service's address")
    joining.add_argument("code", help="the sitting's join code")
    joining.add_argument("--name", default=None, help="your name as the instructor sees it")
    joining.add_argument("--folder", default=None, help="where to make the project (new)")
    joining.add_argument("--open", action="store_true",
                         help="open the exam page (by a one-time code, never the token)")
    joining.add_argument("--no-watch", action="store_true",
                         help="make the project and stop (resume with 'tfexam sync')")
    syncing = _command(sub, cmd_sync)
    syncing.add_argument("--folder", default=None, help="the joined project (default: here)")

    worker = _command(sub, cmd_worker)
    worker.add_argument("--home", default=None, help="the service's home, shared with it")
    worker.add_argument("--concurrency", type=int, default=1,
                        help="grading processes, each with its own warm sandbox")
    worker.add_argument("--name", default=None, help="this worker's name in the broker")

    sittings = _command(sub, cmd_sittings, as_json=True)
    sittings.add_argument("--new", default=None, metavar="EXAM",
                          help="create a sitting of this exam (its id, e.g. tf-developer)")
    sittings.add_argument("--title", default=None, help="with --new: default the exam's title")
    sittings.add_argument("--opens-in", type=float, default=0.0, metavar="MINUTES",
                          help="with --new: joining opens this many minutes from now")
    sittings.add_argument("--window", type=float, default=60.0, metavar="MINUTES",
                          help="with --new: how long joining stays open")
    sittings.add_argument("--minutes", type=float, default=None,
                          help="with --new: each learner's time (default: the exam's length)")

    exams = _command(sub, cmd_exams, as_json=True)
    exams.add_argument("--check", action="store_true",
                       help="validate every template and say which data sets are missing")
    exams.add_argument("--quick", action="store_true",
                       help="with --check: skip importing the starters (seconds, not a minute)")

    start = _command(sub, cmd_start)
    start.add_argument("exam")
    start.add_argument("--workspace", required=True, help="new or empty folder for the project")
    start.add_argument("--minutes", type=float, default=None, help="practice length")
    start.add_argument("--keras", choices=("2", "3"), default=None,
                       help="the Keras of the learner's scripts: 2 as in the real exam (default), "
                       "or 3")

    run = _command(sub, cmd_run)
    run.add_argument("question", help="the question's folder name, e.g. Category1")
    run.add_argument("script", nargs="?", default=None, help="default: the question's starter.py")
    run.add_argument("args", nargs=argparse.REMAINDER, help="passed to the script")
    run.add_argument("--python", default=None, help="the interpreter (default: tfexam's own)")

    _command(sub, cmd_status, session=True, as_json=True)
    _command(sub, cmd_time, session=True)
    _command(sub, cmd_watch, session=True)
    opening = _command(sub, cmd_open, session=True)
    opening.add_argument("--sitting", default=None,
                         help="a classroom sitting's id: open its instructor's page")
    submit = _command(sub, cmd_submit, session=True, as_json=True)
    submit.add_argument("question", help="the question's folder name, e.g. Category2")
    submit.add_argument("--wait", action="store_true", help="wait for the score")
    submit.add_argument("--timeout", type=float, default=600.0)
    finish = _command(sub, cmd_finish, session=True)
    finish.add_argument("--yes", "-y", action="store_true",
                        help="finish without asking (for scripts)")
    _command(sub, cmd_report, session=True, as_json=True)
    _command(sub, cmd_doctor)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(Context(args)))
    except CliError as error:
        print(f"tfexam: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
