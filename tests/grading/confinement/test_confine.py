"""The seccomp filter and the Landlock rules, each installed in a real child process that then
tries what they deny (and what TensorFlow needs, which must still work)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from server.grading.confinement import landlock, seccomp
from server.grading.confinement.sandbox import _read_only_roots

ROOT = Path(__file__).resolve().parents[3]


def _child(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not seccomp.supported(), reason="no seccomp table for this machine")
def test_seccomp_denies_escapes_and_the_network_but_not_threads_or_files() -> None:
    seen = _child("""
        import ctypes, errno, json, os, socket, subprocess, threading
        from server.grading.confinement import seccomp
        seccomp.install()
        libc = ctypes.CDLL(None, use_errno=True)
        def err(result):
            return ctypes.get_errno() if result == -1 else 0
        out = {}
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            out["inet"] = 0
        except OSError as e:
            out["inet"] = e.errno
        socket.socket(socket.AF_UNIX).close()
        out["ptrace"] = err(libc.ptrace(0, 0, 0, 0))
        out["unshare"] = err(libc.unshare(0x10000000))
        out["mount"] = err(libc.mount(b"none", b"/mnt", b"tmpfs", 0, None))
        out["keyctl"] = err(libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0))
        box = []
        thread = threading.Thread(target=lambda: box.append(1)); thread.start(); thread.join()
        out["thread"] = box == [1]
        out["spawn"] = subprocess.run(["true"]).returncode == 0
        out["file"] = len(open("/proc/self/status").read()) > 0
        print(json.dumps(out))
    """)
    assert seen["inet"] == 97  # EAFNOSUPPORT: no network, whatever TensorFlow's C++ tries
    assert seen["ptrace"] == seen["unshare"] == seen["mount"] == seen["keyctl"] == 1  # EPERM
    assert seen["thread"] and seen["spawn"] and seen["file"]


@pytest.mark.skipif(landlock.abi_version() < 1, reason="no Landlock in this kernel")
def test_landlock_confines_files_and_tcp(tmp_path: Path) -> None:
    allowed, private, secret = tmp_path / "job", tmp_path / "tmp", tmp_path / "secret.txt"
    allowed.mkdir()
    private.mkdir()
    (allowed / "inputs.txt").write_text("inputs")
    secret.write_text("labels")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        listener.settimeout(0.5)
        seen = _child(f"""
            import json, socket
            from server.grading.confinement import landlock
            abi = landlock.restrict({[*_read_only_roots(), "/usr", "/lib", "/lib64", "/etc",
                                      str(allowed)]!r}, [{str(private)!r}])
            out = {{"abi": abi, "inputs": open({str(allowed / "inputs.txt")!r}).read()}}
            for name, action in [("secret", lambda: open({str(secret)!r}).read()),
                                 ("write_job", lambda: open({str(allowed / "x")!r}, "w")),
                                 ("write_outside", lambda: open({str(tmp_path / "planted")!r}, "w")),
                                 ("connect", lambda: socket.create_connection(("127.0.0.1", {port}),
                                                                             timeout=2))]:
                try:
                    action()
                    out[name] = "allowed"
                except OSError as error:
                    out[name] = type(error).__name__
            open({str(private / "scratch")!r}, "w").write("ok")
            print(json.dumps(out))
        """)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing connected
    assert seen["inputs"] == "inputs"
    assert seen["secret"] == seen["write_job"] == seen["write_outside"] == "PermissionError"
    if seen["abi"] >= 4:
        assert seen["connect"] == "PermissionError"
    assert not (tmp_path / "planted").exists() and (private / "scratch").read_text() == "ok"
