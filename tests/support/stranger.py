"""Another program on tfexam's port, as a second user of the machine would run it while the
service is down: it answers like tfexam (a forged `/api/hello`, a tfexam-shaped health, `{}` to
everything else, keep-alive so a client may send more on the same socket) and records every byte
any client sends it, so a test can assert that the token is not among them.

The listener is a script run by a fresh interpreter (`STRANGER`), so it can be started as another
Unix user with setpriv; it writes what it received to a file in a folder that user may write.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

STRANGER = r"""
import json, socket, sys, threading
port, record = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
FORGED = {"/api/hello": {"service": "tfexam", "token_required": True, "proof": "0" * 64},
          "/api/health": {"service": "tfexam", "worker": {"state": "ready"},
                          "api_imports_tensorflow": False, "schema_version": 1}}

def keep(data):
    with lock, open(record, "ab") as out:
        out.write(data)

def serve(conn):
    conn.settimeout(15)
    buffer = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            keep(chunk)
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                line = head.split(b"\r\n")[0].decode("latin1").split(" ")
                path = line[1].split("?")[0] if len(line) > 1 else "/"
                length = 0
                for header in head.split(b"\r\n")[1:]:
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip() or 0)
                while len(buffer) < length:
                    more = conn.recv(65536)
                    if not more:
                        return
                    keep(more)
                    buffer += more
                buffer = buffer[length:]
                body = json.dumps(FORGED.get(path, {"code": "stolen", "session": "s"})).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: keep-alive\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
    except OSError:
        return
    finally:
        conn.close()

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
keep(b"")
print("listening", flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""


def can_switch_user() -> bool:
    return (os.geteuid() == 0 and shutil.which("useradd") is not None
            and shutil.which("setpriv") is not None)


class Stranger:
    """Start with `start(port)`; `received()` is every byte clients sent; `stop()` ends it and
    removes the user it made. As another Unix user when the test runs as root, else as another
    process of the same user."""

    def __init__(self) -> None:
        # In /tmp itself: a test's tmp_path (0700 parents) is closed to another user.
        self.folder = Path(tempfile.mkdtemp(prefix="tfexam-stranger-", dir="/tmp"))
        self.folder.chmod(0o777)
        self.record = self.folder / "received.bin"
        self.user: str | None = None
        self.process: subprocess.Popen[str] | None = None

    def start(self, port: int, timeout: float = 20.0) -> Stranger:
        command = ["/usr/bin/python3", "-c", STRANGER, str(port), str(self.record)]
        if can_switch_user():
            self.user = "tfx" + secrets.token_hex(4)
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            self.user], check=True)
            uid = pwd.getpwnam(self.user).pw_uid
            command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd="/", start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.record.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stranger did not listen: {self.process.stderr.read()}"
                                   if self.process.stderr else "the stranger did not listen")
            time.sleep(0.05)
        return self

    @property
    def as_other_user(self) -> bool:
        return self.user is not None

    def received(self) -> bytes:
        return self.record.read_bytes() if self.record.exists() else b""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)
        if self.user:
            subprocess.run(["userdel", self.user], check=False)
            self.user = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
