"""uv gets pip's own settings: indexes, wheel folders, constraints, certificate, and pip's rule
of taking the best version across all indexes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.uv_install import read_pip_config, uv_arguments

LISTED = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.find-links='{wheels}'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/somewhere/else'
global.index-url='https://mirror.example/simple'
install.trusted-host='mirror.example'
"""


def test_pip_settings_become_uv_options(tmp_path: Path) -> None:
    config = read_pip_config(LISTED.format(wheels=tmp_path).splitlines())
    assert config["find-links"] == str(tmp_path), "the environment wins over the config files"
    args, env = uv_arguments(config)
    pairs = list(zip(args[::2], args[1::2], strict=False))
    assert ("--index-strategy", "unsafe-best-match") in pairs
    assert ("--index-url", "https://mirror.example/simple") in pairs
    assert ("--extra-index-url", "file:///opt/pypi/simple") in pairs
    assert ("--extra-index-url", "file:///opt/pypi-more/simple") in pairs
    assert ("--find-links", str(tmp_path)) in pairs
    assert ("--constraint", "/etc/xdg/pip/constraints.txt") in pairs
    assert ("--allow-insecure-host", "mirror.example") in pairs
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "UV_HTTP_TIMEOUT": "180"}


def test_a_missing_wheel_folder_is_skipped_as_pip_skips_it(tmp_path: Path) -> None:
    args, _ = uv_arguments({"find-links": f"{tmp_path / 'gone'} {tmp_path}"})
    assert str(tmp_path / "gone") not in args and str(tmp_path) in args


def test_this_machines_pip_config_is_read() -> None:
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                            text=True, check=False).stdout
    config = read_pip_config(listed.splitlines())
    assert set(config) == {line.partition("=")[0].rpartition(".")[2]
                           for line in listed.splitlines() if "=" in line}
