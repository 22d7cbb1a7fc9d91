"""The application on a real uvicorn in a thread of the test's own process, on a loopback port.

For tests that must reach into the service while it runs: move its clock (a `ManualClock` the
test holds), or share its settings' objects. Requests still cross a real socket."""

from __future__ import annotations

import threading
import time

from server.app import create_app
from server.clock import Clock, ManualClock
from server.config import Settings
from tests.support.live_server import free_port
from tests.support.timing import spent


class InProcessService:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        import uvicorn

        self.port = free_port()
        self.app = create_app(settings, clock or ManualClock())
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> InProcessService:
        with spent("service-start"):
            self.thread.start()
            deadline = time.monotonic() + 60
            while not self.server.started:
                assert self.thread.is_alive() and time.monotonic() < deadline, "no service"
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
