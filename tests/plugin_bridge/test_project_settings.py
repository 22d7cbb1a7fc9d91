"""The CLI's own settings (TFEXAM_URL, --url) are checked before any request: a bad address is
one sentence and the usage exit code, never urllib's "unknown url type" (issue 18, item 5)."""

from __future__ import annotations

import pytest

from plugin_bridge.cli import main
from plugin_bridge.errors import EXIT_USAGE


@pytest.mark.parametrize("url", ["localhost:8765", "http://127.0.0.1:99999",
                                 "http://127.0.0.1:8765/api", "ftp://127.0.0.1:8765"])
def test_a_bad_service_address_is_a_usage_error(url: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # outside any project
    monkeypatch.setenv("TFEXAM_URL", url)
    assert main(["time"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"tfexam: TFEXAM_URL={url!r} is not allowed: it must be the service's "
                          "address, http://HOST:PORT") and err.count("\n") == 1
    monkeypatch.delenv("TFEXAM_URL")
    assert main(["--url", url, "time"]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith(f"tfexam: --url={url!r} is not allowed")
