"""A hostile grading child with native calls (ctypes, os): it confines itself exactly as the grading
child does, then tries what a model's custom op could (issue 22, item 3), and says what worked.

`attack(plan, scratch, targets, limits)` runs it through the real launcher; `plant_*` make the
things it reaches for: a Unix socket with a path (as an ssh-agent or D-Bus socket has), and a
System V shared memory segment holding a secret."""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from server.grading.confinement.sandbox import Plan, SandboxLimits, new_sandbox
from server.grading.protocol import Ready

CHILD = r"""
import ctypes, errno, json, os, socket, sys, time
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
applied = apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
targets = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
out = {"capabilities": applied["capabilities"]}

def errname(code):
    return errno.errorcode.get(code, str(code))

# 1. A socket of its own, and a Unix socket with a path (ssh-agent, D-Bus, docker.sock).
fd = libc.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0)
out["socket"] = "allowed" if fd >= 0 else errname(ctypes.get_errno())
try:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(2)
        client.connect(targets["unix_socket"])
        client.sendall(b"reached")
    out["connect_unix"] = "allowed"
except OSError as error:
    out["connect_unix"] = errname(error.errno) if error.errno else type(error).__name__
pair = (ctypes.c_int * 2)()
out["socketpair"] = ("allowed" if libc.socketpair(socket.AF_UNIX, socket.SOCK_STREAM, 0, pair)
                     == 0 else errname(ctypes.get_errno()))

# 2. System V shared memory the service's user made.
shmid = libc.shmget(targets["shm_key"], 0, 0)
if shmid < 0:
    out["shm"] = errname(ctypes.get_errno())
else:
    address = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
    out["shm"] = ("read " + ctypes.string_at(address, 16).decode(errors="replace")
                  if address not in (None, ctypes.c_void_p(-1).value)
                  else errname(ctypes.get_errno()))
out["msgget"] = "allowed" if libc.msgget(0, 0o1000 | 0o600) >= 0 else errname(ctypes.get_errno())

# 3. Capabilities, and what one would give: a device node.
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
out["cap_eff"] = int(status["CapEff"].strip(), 16)
node = os.path.join(os.environ["TMPDIR"], "null-again")
out["mknod"] = ("allowed" if libc.mknod(node.encode(), 0o20666, (1 << 8) | 3) == 0
                else errname(ctypes.get_errno()))

# 4. A process-count limit: fork until refused (each child just waits to be killed).
started = []
out["fork_refused"] = None
for _ in range(targets["forks"]):
    pid = libc.fork()
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    if pid < 0:
        out["fork_refused"] = errname(ctypes.get_errno())
        break
    started.append(pid)
out["forked"] = len(started)
for pid in started:
    os.kill(pid, 9)
    os.waitpid(pid, 0)

# 5. What /proc shows of the service: its command line (the warning says so), never its
# environment (where a token could be).
for name in ("cmdline", "environ"):
    try:
        open(f"/proc/{targets['service_pid']}/{name}", "rb").read()
        out["service_" + name] = "allowed"
    except OSError as error:
        out["service_" + name] = type(error).__name__

# 6. A process that leaves: setsid and fork twice, then exec something that waits.
first = os.fork()
if first == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", targets["marker"]])
    os._exit(0)
os.waitpid(first, 0)
channel.sendall(protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement=out)))
time.sleep(300)  # the job "ends" when the launcher destroys the sandbox
"""


@dataclass
class Planted:
    unix_socket: Path
    listener: socket.socket
    shm_key: int
    shm_id: int
    marker: str

    def targets(self, forks: int) -> dict[str, object]:
        return {"unix_socket": str(self.unix_socket), "shm_key": self.shm_key,
                "marker": self.marker, "forks": forks, "service_pid": os.getpid()}

    def close(self) -> None:
        self.listener.close()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmctl(self.shm_id, 0, None)  # IPC_RMID


def plant(folder: Path) -> Planted:
    """A listening Unix socket in `folder`, and a shared memory segment with a secret; the
    marker is a sleep length no other process on the machine uses (the escapee's command line)."""
    path = folder / "agent.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    path.chmod(0o777)
    listener.listen()
    listener.settimeout(0.2)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    key = secrets.randbelow(2**30) + 1
    shm_id = libc.shmget(key, 4096, 0o1000 | 0o666)  # IPC_CREAT
    assert shm_id >= 0, ctypes.get_errno()
    address = libc.shmat(shm_id, None, 0)
    ctypes.memmove(address, b"held-out-labels!", 16)
    libc.shmdt(ctypes.c_void_p(address))
    marker = f"{300 + secrets.randbelow(10**6) / 10**7:.7f}"
    return Planted(path, listener, key, shm_id, marker)


def attack(plan: Plan, scratch: Path, targets: dict[str, object],
           limits: SandboxLimits) -> dict[str, object]:
    """Run the hostile child in a real sandbox; its report, once the sandbox is destroyed."""
    box = new_sandbox(plan, limits, scratch / "boxes", scratch / "log",
                      command=[sys.executable, "-c", CHILD, json.dumps(targets)])
    try:
        assert box.start() is None
        ready = box.wait_ready()
        assert isinstance(ready, Ready), (ready, (scratch / "log").read_text()[-3000:])
        return dict(ready.confinement)
    finally:
        box.destroy()


def survivors(marker: str) -> list[int]:
    """Processes still running whose command line carries the marker."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if marker in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.pid)
    return found


def settled_survivors(marker: str) -> list[int]:
    """Survivors a moment after the sandbox was destroyed (a SIGKILL is not instant)."""
    import time

    deadline = time.monotonic() + 5
    while (found := survivors(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def attack_planted(plan: Plan, scratch: Path, planted: Planted, forks: int,
                   limits: SandboxLimits) -> tuple[dict[str, object], bool, list[int]]:
    """The hostile child against what `plant` set out: its report, whether it reached the planted
    listening socket, and the processes it left running after its sandbox was destroyed."""
    seen = attack(plan, scratch, planted.targets(forks), limits)
    try:
        planted.listener.accept()
        reached = True
    except TimeoutError:
        reached = False
    return seen, reached, settled_survivors(planted.marker)
