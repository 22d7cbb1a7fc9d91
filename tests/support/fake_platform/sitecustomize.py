"""A FAKED platform for tests, loaded by Python at start-up when this folder is on PYTHONPATH.

No macOS or Windows machine is available to this project's tests, so a process started with this
folder first on PYTHONPATH pretends to be one, in the two ways that matter to tfexam's own code:
- `platform.system()` answers `TFEXAM_TEST_FAKE_SYSTEM` ("Darwin" or "Windows"), which is what
  tfexam asks to decide how models are confined (server/host_platform.py);
- a module that exists only on Linux (and Unix) cannot be imported at import time by tfexam's own
  modules (`server.*`, `plugin_bridge.*`): an `import fcntl` at a module's top level fails as it
  would on Windows. Imports inside functions are left alone: they run only on the path of their
  own system, and this is Linux underneath.
Everything else (the kernel, the file system, Python's own modules) is this Linux machine's.
"""

from __future__ import annotations

import builtins
import os
import platform
import sys

UNIX_ONLY = frozenset({"fcntl", "resource", "termios", "tty", "pty", "pwd", "grp", "syslog",
                       "crypt", "nis", "spwd", "posix", "readline"})
OURS = ("server", "plugin_bridge")
_real_import = builtins.__import__


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # type: ignore[no-untyped-def]
    importer = str((globals or {}).get("__name__", ""))
    if (level == 0 and name.split(".")[0] in UNIX_ONLY and importer.split(".")[0] in OURS
            and sys._getframe(1).f_code.co_name == "<module>"):
        raise ModuleNotFoundError(f"No module named {name!r} (imported by {importer} at import "
                                  "time; the platform is faked)", name=name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _guarded_import
_faked = os.environ.get("TFEXAM_TEST_FAKE_SYSTEM")
if _faked:
    platform.system = lambda: _faked
