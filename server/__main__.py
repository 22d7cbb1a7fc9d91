"""`python -m server serve ...`: what `tfexam serve` runs (the CLI never imports the server)."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

# A setting the service does not take is the caller's to fix, like a bad argument (the CLI's 2).
EXIT_BAD_SETTING = 2


def _say(line: str) -> None:
    print(f"tfexam: {line}", flush=True)


def browser_handoff(home: Path, address: str) -> str:
    """A page in the private home folder that sends the browser on to `address`, as a file://
    address: only its path shows in `ps`, never the code."""
    import html

    from server.access_token import write_private

    target = html.escape(address, quote=True)
    page = home / "open-browser.html"
    write_private(page, f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" '
                        f'content="0;url={target}"><title>tfexam</title>'
                        f'<p><a href="{target}">Open tfexam</a></p>\n')
    return page.as_uri()


def _serve(args: argparse.Namespace) -> int:
    """The address is printed first (within a fraction of a second: only the settings, the
    home's lock and its token are needed for it), then each step of the start-up that takes
    seconds (the service's libraries, the database and the exams), then "ready"."""
    import dataclasses

    from server.access_token import private_folder, resolve_token
    from server.config import Settings
    from server.environment import BadSetting
    from server.instance_lock import AlreadyRunning, InstanceLock

    try:
        settings = Settings.from_env(home=args.home, host=args.host, port=args.port)
    except BadSetting as why:
        print(f"tfexam: {why}", file=sys.stderr, flush=True)
        return EXIT_BAD_SETTING
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    lock = InstanceLock(settings.home)
    try:
        private_folder(settings.home)
        lock.acquire(url)
        token = resolve_token(settings.home, disabled=args.no_token)
    except AlreadyRunning as why:
        print(f"tfexam: {why}", file=sys.stderr, flush=True)
        return 1
    except OSError as why:
        lock.release()
        print(f"tfexam: the home folder {settings.home} cannot be used ({why}): free some space "
              "or choose a writable folder with --home or TFEXAM_HOME.", file=sys.stderr, flush=True)
        return 1
    settings = dataclasses.replace(settings, token=token)
    # The address comes first, before the slow imports; the browser's one-time address (a code,
    # never the token: a command line is visible in `ps` to every user, and the code is spent the
    # moment the browser uses it) once the service answers.
    _say(f"serving {url} (state in {settings.home})")
    _say("starting: loading the service (FastAPI, the report's plotting)...")
    try:
        import uvicorn

        from server.app import create_app

        _say("starting: opening the database, checking the exams and their data...")
        app = create_app(settings)
    except (OSError, sqlite3.Error) as why:
        lock.release()
        print(f"tfexam: the home folder {settings.home} cannot be used ({why}): free some space "
              "or choose a writable folder with --home or TFEXAM_HOME.", file=sys.stderr, flush=True)
        return 1
    try:
        # An open exam tab holds an event stream that never ends by itself: without a bound,
        # uvicorn waits for it forever and SIGTERM (Ctrl+C) never stops the service.
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                timeout_graceful_shutdown=1)

        class HangingUpServer(uvicorn.Server):
            """Says when it answers (and only then opens the browser), and also ends the pages'
            event streams the moment a stop signal arrives, so an open exam page says "stopped"
            at once rather than when the process has exited."""

            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets)
                if self.started:
                    printed = f"{url}?code={app.state.browser_codes.mint()}" if token else url
                    once = "a one-time address, 'tfexam open' makes another; " if token else ""
                    _say(f"ready: open {printed} ({once}the grader's sandbox starts in the "
                         "background; Ctrl+C stops the service)")
                    if not args.no_browser:
                        opened = url
                        if token:  # its own code, by a private file: a command line is public
                            opened = browser_handoff(
                                settings.home, f"{url}?code={app.state.browser_codes.mint()}")
                        threading.Thread(target=webbrowser.open, args=(opened,), daemon=True).start()

            def handle_exit(self, sig: int, frame: Any) -> None:
                app.state.broadcaster.hang_up()
                super().handle_exit(sig, frame)

        HangingUpServer(config).run()
    finally:
        lock.release()
    return 0


def _check(args: argparse.Namespace) -> int:
    from server.environment import BadSetting
    from server.templates_check import check_all

    try:
        return check_all(Path(args.exams) if args.exams else None, import_starters=not args.quick)
    except BadSetting as why:
        print(f"tfexam: {why}", file=sys.stderr, flush=True)
        return EXIT_BAD_SETTING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--home", default=None, help="state folder (default: TFEXAM_HOME or the "
                       "platform's user data folder)")
    serve.add_argument("--no-browser", action="store_true")
    serve.add_argument("--no-token", action="store_true", help="accept requests without the "
                       "service's token (TFEXAM_NO_TOKEN=1): any local process may then act")
    serve.add_argument("--log-level", default="info")
    check = sub.add_parser("check-exams", help="validate every exam template")
    check.add_argument("--exams", default=None)
    check.add_argument("--quick", action="store_true", help="skip importing the starters")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return {"serve": _serve, "check-exams": _check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
