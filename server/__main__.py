"""`python -m server serve ...`: what `tfexam serve` runs (the CLI never imports the server)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import webbrowser
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.config import Settings

    settings = Settings.from_env(home=args.home, host=args.host, port=args.port)
    app = create_app(settings)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"tfexam: serving {url} (state in {settings.home})", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
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
    serve.add_argument("--log-level", default="info")
    check = sub.add_parser("check-exams", help="validate every exam template")
    check.add_argument("--exams", default=None)
    check.add_argument("--quick", action="store_true", help="skip importing the starters")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return {"serve": _serve, "check-exams": _check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
