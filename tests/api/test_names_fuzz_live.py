"""Every name a clear sentence: hostile and random names and paths sent to every endpoint that takes
one, against a real uvicorn service, and odd names inside a running project. No answer is a 500;
every refusal is one sentence (one line, ending in a full stop, never the 10 MB path echoed back);
a name that could be used is, and the session it made answers its status, report and page.

The names are a fixed table of the ones that broke tfexam or could (NUL, non-UTF-8 bytes, 256+
byte names, 10 MB paths, controls, escapes, Windows and shell syntax) plus random ones from a fixed
seed (`TFEXAM_FUZZ_SEED` to replay another), so a failure names the input that caused it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.live_server import ROOT, LiveServer

SEED = int(os.environ.get("TFEXAM_FUZZ_SEED", "17"))
RANDOM_NAMES = 40

HOSTILE = [
    "", " ", ".", "..", "/", "//", "~", "~root", "-", "a" * 255, "a" * 256, "a" * 300,
    "é" * 128, "😀" * 70, "x\x00y", "\x00", "\udcff", "bad\udcffname", "\ud800", "a\nb", "a\rb",
    "\t", "\x1b[31mred\x1b[0m", "\u202eevil.h5", "\u200b", "\ufeff", "\uffff", "\U0010ffff",
    "..\\..\\x", "C:\\Study\\tf\\mymodel.h5", "C:", "%00", "%2e%2e%2f", "con", "NUL", "${HOME}",
    "$(id)", "`id`", "'; DROP TABLE sessions;--", "<script>alert(1)</script>", "a/" * 200,
    "/proc/self/environ", "/dev/null", "/etc", " leading", "trailing ", "?", "#", "*", "\\",
    "mymodel.h5", "Q1", "Q1/../Q2", ".tfexam", "x" * 5000,
]


def random_names(seed: int, count: int) -> list[str]:
    """Names drawn from every kind of character a name can hold, of every length that matters."""
    rng = random.Random(seed)
    pools = [
        lambda: chr(rng.randrange(0x20, 0x7F)),  # printable ASCII
        lambda: chr(rng.randrange(0x00, 0x20)),  # controls, NUL included
        lambda: chr(rng.randrange(0xDC80, 0xDD00)),  # a non-UTF-8 byte (surrogateescape)
        lambda: chr(rng.randrange(0xA0, 0xD800)),  # the rest of the BMP
        lambda: chr(rng.randrange(0x10000, 0x110000)),  # astral
        lambda: rng.choice("/\\.~$%"),
    ]
    names = []
    for _ in range(count):
        length = rng.choice([1, 2, 8, 40, 127, 255, 256, 300, 4097])
        names.append("".join(rng.choice(pools)() for _ in range(length)))
    return names


NAMES = HOSTILE + random_names(SEED, RANDOM_NAMES)


def _raw(name: str) -> bytes:
    """A name's bytes as the disk holds them; a lone surrogate that no byte maps to is sent as
    the invalid UTF-8 that encodes it (ED A0 80 for U+D800), which is hostile too."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def _segment(name: str) -> str:
    """A name as one URL path segment, its raw bytes percent-encoded (non-UTF-8 ones too)."""
    return quote(_raw(name), safe="") or "%20"


def _json_body(body: dict) -> bytes:
    """JSON as a client sends it: a lone surrogate escaped as \\udcff, which the service reads."""
    return json.dumps(body).encode("ascii")


def _one_sentence(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    if response.status_code < 400:
        return
    if "json" in response.headers.get("content-type", ""):
        detail = response.json().get("detail")
        assert isinstance(detail, str), (what, response.text[:500])
    else:
        detail = response.text
        if "<html" in detail.lower():
            return  # a page: its message is checked by the page tests
    assert detail and "\n" not in detail and len(detail) < 1200, (what, detail[:1500])
    assert detail.rstrip().endswith("."), (what, detail)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, keras_home: Path):
    base = tmp_path_factory.mktemp("names")
    live = LiveServer(base / "home").start()
    try:
        yield live, base
    finally:
        live.stop()


def test_start_requests_with_any_name_are_a_sentence_or_a_project(fuzzed) -> None:
    live, base = fuzzed
    headers = {**live.headers, "content-type": "application/json"}
    made = []
    for index, name in enumerate(NAMES):
        for workspace in (f"{base}/ws{index}/{name}", name):
            if workspace == name and not name.startswith("/"):
                workspace = f"{base}/rel{index}-{name}"  # relative ones resolve against the service
            sent = httpx.post(live.url + "/api/sessions", headers=headers, timeout=60,
                              content=_json_body({"exam": "smoke", "workspace": workspace,
                                                  "minutes": 30}))
            _one_sentence(sent, f"workspace {workspace[:300]!r}")
            if sent.status_code == 201:
                made.append(sent.json())
        refused = httpx.post(live.url + "/api/sessions", headers=headers, timeout=60,
                             content=_json_body({"exam": name, "workspace": f"{base}/e{index}"}))
        _one_sentence(refused, f"exam {name[:300]!r}")
        assert refused.status_code in (404, 409, 422), (name[:300], refused.text[:300])
    # A link whose target is not UTF-8: the folder asked for is plain text, the one it resolves
    # to is not, and the IDE files could not hold it.
    os.mkdir(os.path.join(os.fsencode(base), b"target\xff"))
    os.symlink(os.path.join(os.fsencode(base), b"target\xff"), base / "plain-link")
    linked = httpx.post(live.url + "/api/sessions", headers=headers, timeout=60, content=_json_body(
        {"exam": "smoke", "workspace": f"{base}/plain-link/exam"}))
    _one_sentence(linked, "a link to a non-UTF-8 folder")
    assert linked.status_code == 409 and "target\\xff" in linked.json()["detail"], linked.text
    huge = httpx.post(live.url + "/api/sessions", headers=headers, timeout=120, content=_json_body(
        {"exam": "smoke", "workspace": f"{base}/" + "b/" * 5_000_000}))
    _one_sentence(huge, "a 10 MB path")
    assert huge.status_code == 409 and "shorter path" in huge.json()["detail"]
    assert made, "ordinary odd names (emoji, spaces, shell syntax) still make a project"
    for started in made:  # a project made under an odd name works like any other
        session = started["session"]
        assert Path(started["project_dir"]).is_dir()
        for path in (f"/api/sessions/{session}", f"/api/sessions/{session}/report"):
            answer = httpx.get(live.url + path, headers=live.headers, timeout=30)
            assert answer.status_code == 200, (started["project_dir"], path, answer.text[:300])
        page = httpx.get(f"{live.url}/sessions/{session}", cookies=_cookie(live), timeout=30)
        assert page.status_code == 200, (started["project_dir"], page.text[:300])


def _cookie(live: LiveServer) -> dict[str, str]:
    cookie = live.cookie()
    return {cookie["name"]: cookie["value"]}


def test_every_endpoint_that_takes_a_name_answers_a_sentence(fuzzed) -> None:
    live, base = fuzzed
    started = live.start_session(base / "endpoints", minutes=30)
    session = started["session"]
    jar = _cookie(live)
    with httpx.Client(base_url=live.url, headers=live.headers, cookies=jar, timeout=30) as api:
        for name in NAMES:
            segment = _segment(name)
            raw = _raw(name)
            calls = [
                ("GET", f"/api/sessions/{segment}"),
                ("POST", f"/api/sessions/{segment}/finish"),
                ("GET", f"/api/sessions/{segment}/report"),
                ("GET", f"/api/sessions/{segment}/events"),
                ("GET", f"/api/sessions/{segment}/submissions/1"),
                ("GET", f"/api/sessions/{session}/submissions/{segment}"),
                ("POST", f"/api/sessions/{segment}/questions/Q1/submit"),
                ("POST", f"/api/sessions/{session}/questions/{segment}/submit"),
                ("GET", f"/api/sessions/by-folder?path={quote(raw, safe='')}"),
                ("GET", f"/api/sessions?state={quote(raw, safe='')}"),
                ("GET", f"/api/hello?nonce={quote(raw, safe='')}"),
                ("GET", f"/sessions/{segment}"),
                ("GET", f"/sessions/{segment}/report"),
                ("GET", f"/sessions/{segment}/report.html"),
                ("GET", f"/static/{segment}"),
                ("GET", f"/?code={quote(raw, safe='')}"),
            ]
            for method, path in calls:
                answer = api.request(method, path, json={} if method == "POST" else None)
                _one_sentence(answer, f"{method} {path[:300]} ({name[:100]!r})")
    assert live.get(f"/api/sessions/{session}")["state"] == "running", "nothing was finished"


ODD_ENTRIES = [b"bad\xffdir/mymodel.h5", b"\xff\xfe.h5", b"a\nb/mymodel.h5", b"\x1b[31m/x.txt",
               b"\xe2\x80\xaeevil/mymodel.h5", b"Q1/sub\xff/mymodel.h5", b"Q1/" + b"n" * 255,
               b"C:\\Study\\mymodel.h5", b"deep/" * 60 + b"mymodel.h5", b"Q2/\xc3(.txt"]


def test_odd_names_inside_a_running_project_are_listed_escaped(fuzzed) -> None:
    live, base = fuzzed
    project = base / "odd-project"
    started = live.start_session(project, minutes=30)
    session = started["session"]
    root = os.fsencode(project)
    for entry in ODD_ENTRIES:
        path = os.path.join(root, entry)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(b"not a model")
    os.symlink(b"loop\xff", os.path.join(root, b"loop\xff"))  # a link to itself, odd name too
    os.mkfifo(os.path.join(root, b"Q2", b"fifo\xff"))

    status = live.wait_for(session, lambda s: len(s.get("misplaced") or []) >= 4, timeout=60)
    listed = {m["path"] for m in status["misplaced"]}
    assert "bad\\xffdir/mymodel.h5" in listed, listed
    assert "a\\nb/mymodel.h5" in listed, listed
    assert all("\n" not in p and "\udcff" not in p for p in listed), listed
    jar = _cookie(live)
    for path in (f"/api/sessions/{session}", "/api/sessions", f"/api/sessions/{session}/report"):
        answer = httpx.get(live.url + path, headers=live.headers, timeout=30)
        assert answer.status_code == 200, (path, answer.text[:500])
    for path in (f"/sessions/{session}", "/", "/history"):
        answer = httpx.get(live.url + path, cookies=jar, timeout=30)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert "bad\\xffdir" in answer.text or path != f"/sessions/{session}"
    submitted = live.post(f"/api/sessions/{session}/questions/Q1/submit")
    _one_sentence(submitted, "Submit and Test of a folder with odd names")
    with httpx.stream("GET", f"{live.url}/api/sessions/{session}/events", headers=live.headers,
                      timeout=30) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("data:"):
                json.loads(line[5:])  # a frame the page and the extension can read
                break
    env = {k: v for k, v in os.environ.items() if k not in ("TFEXAM_URL", "TFEXAM_TOKEN")}
    env.update(PYTHONPATH=str(ROOT), TFEXAM_HOME=str(live.home))
    said = {}
    for args in (["time"], ["status"], ["status", "--json"]):
        done = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *args], cwd=project,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        said[" ".join(args)] = done.stdout
    assert "bad\\xffdir/mymodel.h5" in said["status"], said["status"]
    assert "bad\\xffdir/mymodel.h5" in {m["path"] for m in json.loads(said["status --json"])
                                        ["misplaced"]}
