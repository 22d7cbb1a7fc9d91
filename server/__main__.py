"""`python -m server serve ...`: what `tfexam serve` runs (the CLI never imports the server)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    import dataclasses

    import uvicorn

    from server.access_token import private_folder, resolve_token
    from server.app import create_app
    from server.config import Settings
    from server.instance_lock import AlreadyRunning, InstanceLock
    from server.store import StoreUnavailable

    settings = Settings.from_env(home=args.home, host=args.host, port=args.port)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    lock = InstanceLock(settings.home)
    try:
        private_folder(settings.home)
        lock.acquire(url)
        token = resolve_token(settings.home, disabled=args.no_token)
        settings = dataclasses.replace(settings, token=token)
        app = create_app(settings)
    except AlreadyRunning as why:
        print(f"tfexam: {why}", file=sys.stderr, flush=True)
        return 1
    except (OSError, StoreUnavailable) as why:
        print(f"tfexam: the home folder {settings.home} cannot be used ({why}): free some space "
              "or choose a writable folder with --home or TFEXAM_HOME.", file=sys.stderr, flush=True)
        return 1
    opened = f"{url}?token={token}" if token else url
    print(f"tfexam: serving {opened} (state in {settings.home})", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(opened)).start()
    try:
        # An open exam tab holds an event stream that never ends by itself: without a bound,
        # uvicorn waits for it forever and SIGTERM (Ctrl+C) never stops the service.
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                timeout_graceful_shutdown=1)

        class HangingUpServer(uvicorn.Server):
            """Also ends the pages' event streams the moment a stop signal arrives, so an open
            exam page says "stopped" at once rather than when the process has exited."""

            def handle_exit(self, sig: int, frame: Any) -> None:
                app.state.broadcaster.hang_up()
                super().handle_exit(sig, frame)

        HangingUpServer(config).run()
    finally:
        lock.release()
    return 0


def _check(args: argparse.Namespace) -> int:
    from server.templates_check import check_all

    return check_all(Path(args.exams) if args.exams else None, import_starters=not args.quick)


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
