"""A real RabbitMQ node for tests: Debian's `rabbitmq-server` package, a node of its own in a
temporary folder, stopped (and removed) afterwards.

Everything the node would take from the machine is made private, so it neither meets Debian's own
node (if one runs) nor another test process's:
- its ports, all on 127.0.0.1 and free when chosen: AMQP (`RABBITMQ_NODE_IP_ADDRESS`/`_PORT`),
  the Erlang distribution port (`RABBITMQ_DIST_PORT`, bound with `inet_dist_use_interface`), and
  an epmd of its own (`ERL_EPMD_ADDRESS`/`ERL_EPMD_PORT`), which this class starts in the
  foreground itself (an epmd the VM started on its own would run on as a daemon after the test);
- its state and logs (`RABBITMQ_MNESIA_BASE`, `RABBITMQ_LOG_BASE`), configuration
  (`RABBITMQ_CONFIG_FILE`, an empty `RABBITMQ_CONF_ENV_FILE` instead of /etc/rabbitmq's, its own
  enabled-plugins file: none), and its Erlang cookie, in a `HOME` of its own.
Under root the node runs as Debian's `rabbitmq` system user when it exists (as PostgreSQL runs as
`postgres`): a broker needs no privilege, and the temporary folder is handed to it.

`restart()` (a clean stop, then start on the same ports and state) and `kill9()` (the VM killed
outright) let fault tests take the broker away under running services; its queues are durable
and Celery's messages persistent, so what was queued is there again after either.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.postgres import free_port
from tests.support.timing import spent

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # Debian's; /usr/sbin's wrapper uses su


def _server() -> Path:
    if SERVER.exists():
        return SERVER
    found = shutil.which("rabbitmq-server")
    if found is None:
        raise RuntimeError("rabbitmq-server is not installed: install Debian's rabbitmq-server "
                           "package (.ci/run does) to run the classroom tests on RabbitMQ.")
    return Path(found)


def _owner() -> pwd.struct_passwd | None:
    """Who runs the node: Debian's `rabbitmq` user under root, else whoever we are."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("rabbitmq")
    except KeyError:
        return None


class RabbitServer:
    def __init__(self) -> None:
        self.server = _server()
        self.owner = _owner()
        self.root = Path(tempfile.mkdtemp(prefix="tfexam-rabbit-"))
        self.home = self.root / "home"
        self.home.mkdir()
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = f"tfexam-{uuid.uuid4().hex[:8]}@localhost"
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        (self.root / "rabbitmq.conf").write_text(
            "loopback_users.guest = true\n"
            # A test machine's disk and memory are shared: never block publishers over them.
            "disk_free_limit.absolute = 50MB\n"
            "vm_memory_high_watermark.relative = 0.9\n")
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text("[].\n")
        if self.owner:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self.log = self.root / "console.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.epmd: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("RABBITMQ_", "ERL_")) and k != "HOME"}
        return {
            **keep, "HOME": str(self.home), "LC_ALL": "C.UTF-8",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbit.pid"),
        }

    def _command(self, *argv: str) -> list[str]:
        if self.owner is None:
            return list(argv)
        return ["setpriv", f"--reuid={self.owner.pw_uid}", f"--regid={self.owner.pw_gid}",
                "--clear-groups", *argv]

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(self._command(*argv), cwd=self.root, env=self._env(),
                                    stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()

    def start(self) -> RabbitServer:
        with spent("backing-start"):
            if self.epmd is None or self.epmd.poll() is not None:
                epmd = shutil.which("epmd") or "epmd"
                self.epmd = self._spawn([epmd, "-address", "127.0.0.1", "-port",
                                         str(self.epmd_port)])
            self.process = self._spawn([str(self.server)])
            self._wait_answering(timeout=120)
        return self

    def _wait_answering(self, timeout: float) -> None:
        """Until an AMQP client can open a channel (the node has booted its queues)."""
        import amqp

        deadline = time.monotonic() + timeout
        while True:
            try:
                with amqp.Connection(f"127.0.0.1:{self.port}", userid="guest",
                                     password="guest", connect_timeout=2) as conn:
                    conn.channel().close()
                return
            except (OSError, amqp.exceptions.AMQPError) as error:
                assert self.process is not None
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("rabbitmq-server did not start: "
                                       + self.log.read_text(errors="replace")[-3000:]) from error
                time.sleep(0.2)

    def reset(self) -> None:
        """Delete what earlier tests left in the queue (a test's workers must not take another
        test's jobs: their submission ids mean other rows)."""
        import amqp

        from server.classroom.broker import QUEUE

        with amqp.Connection(f"127.0.0.1:{self.port}", userid="guest", password="guest",
                             connect_timeout=5) as conn:
            channel = conn.channel()
            channel.queue_delete(QUEUE)

    def _wait_gone(self) -> None:
        assert self.process is not None
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def kill9(self) -> None:
        """The broker's VM killed outright (the start-up script, the VM and its helper)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """A clean stop: the script's TERM handler stops the node, which syncs its queues."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self._wait_gone()
            # The VM's helper (erl_child_setup) ends with it; nothing may stay behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """The end of the tests: nothing of the node is kept, so it is not stopped cleanly (that
        takes seconds) but killed, and its folder removed."""
        try:
            if self.process and self.process.poll() is None:
                self.kill9()
        finally:
            if self.epmd and self.epmd.poll() is None:
                self.epmd.kill()
                self.epmd.wait(10)
            shutil.rmtree(self.root, ignore_errors=True)
