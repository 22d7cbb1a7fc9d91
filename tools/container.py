"""Build tfexam's container image with podman (or docker, where a Docker engine answers).

The image is `docker/Containerfile`; its base is a build argument. Where an image registry can be
reached the official Python image serves (`--base docker.io/library/python:3.11-slim`); on a
machine that reaches only Debian's archive (this project's CI) the base is made from that archive
with mmdebstrap and imported as `localhost/tfexam-base:bookworm`. What costs minutes is kept
between runs under the user's cache folder (`~/.cache/tfexam-ci/container/`, as the code-server
install keeps its copy): the base's root file system and the downloaded wheels (mounted into the
build, never kept in the image). The engine's own layer cache makes a rebuild after a code change
seconds long.

podman runs here only with a settings file of its own (`containers.conf` in the cache folder,
given through CONTAINERS_CONF; nothing under /etc changes): runc where crun refuses a hybrid
cgroup layout, and default limits the calling user may actually set (`../shared/container-notes.md`).

Usage:
  python tools/container.py build [--base IMAGE] [--tag TAG]   # prints build time and size
  python tools/container.py engine                              # the engine command, one line
  python tools/container.py env                                 # CONTAINERS_CONF=… for a shell
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTAINERFILE = REPO / "docker" / "Containerfile"
IMAGE = "localhost/tfexam:latest"
LOCAL_BASE = "localhost/tfexam-base:bookworm"
OFFICIAL_BASE = "docker.io/library/python:3.11-slim"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"


def cache_dir() -> Path:
    """Where the base's root file system, the wheels and podman's settings are kept."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(os.environ.get("TFEXAM_CONTAINER_CACHE") or root / "tfexam-ci" / "container")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def engine() -> str:
    """`docker` where a Docker engine answers, else `podman`; TFEXAM_CONTAINER_ENGINE decides
    when set. (A docker client without its engine, as on this project's machines, is not used.)"""
    chosen = os.environ.get("TFEXAM_CONTAINER_ENGINE")
    if chosen:
        return chosen
    if _docker_answers():
        return "docker"
    if shutil.which("podman"):
        return "podman"
    raise SystemExit("Neither podman nor a running Docker engine was found: install podman "
                     "(apt-get install podman runc) or start Docker.")


def _hybrid_cgroups() -> bool:
    """cgroup v1 controllers beside a v2 hierarchy: crun refuses this layout, runc does not."""
    return Path("/sys/fs/cgroup/unified").is_dir()


def podman_settings() -> Path:
    """podman's settings for this machine: runc on hybrid cgroups, and default limits no higher
    than the calling user's own hard limits (podman asks for more than root may set here)."""
    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    processes = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    if open_files == resource.RLIM_INFINITY:
        open_files = 1048576
    processes = 32768 if processes == resource.RLIM_INFINITY else min(processes, 32768)
    lines = ["[containers]",
             f'default_ulimits = ["nofile={open_files}:{open_files}", '
             f'"nproc={processes}:{processes}"]', "", "[engine]"]
    if _hybrid_cgroups() and shutil.which("runc"):
        lines += ['runtime = "runc"', 'cgroup_manager = "cgroupfs"']
    path = cache_dir() / "containers.conf"
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def engine_env() -> dict[str, str]:
    """The environment every engine command runs in."""
    env = dict(os.environ)
    if engine() == "podman":
        env["CONTAINERS_CONF"] = str(podman_settings())
    return env


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """An engine command (the engine is added in front), with this machine's settings."""
    return subprocess.run([engine(), *argv], env=engine_env(), text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def image_exists(name: str) -> bool:
    return run(["image", "exists" if engine() == "podman" else "inspect", name],
               capture_output=True).returncode == 0


def _debian_sources() -> str:
    """The host's own apt sources file, so the base comes from the mirror apt already uses."""
    for candidate in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        if "debian" in candidate.read_text():
            return str(candidate)
    return "http://deb.debian.org/debian"


def make_base() -> str:
    """`localhost/tfexam-base:bookworm` from Debian's archive (mmdebstrap), its root file system
    kept in the cache so a fresh engine imports it in seconds."""
    if image_exists(LOCAL_BASE):
        return LOCAL_BASE
    tarball = cache_dir() / "base-bookworm.tar"
    if not tarball.exists():
        if shutil.which("mmdebstrap") is None:
            raise SystemExit("No registry base and no mmdebstrap: apt-get install mmdebstrap, or "
                             f"pass --base {OFFICIAL_BASE} where a registry is reachable.")
        print(f"==> Making the base image from Debian's archive (mmdebstrap) into {tarball}",
              flush=True)
        partial = tarball.with_suffix(".partial.tar")
        subprocess.run(["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
                        "bookworm", str(partial), _debian_sources()], check=True)
        partial.rename(tarball)
    print(f"==> Importing {tarball.name} as {LOCAL_BASE}", flush=True)
    run(["import", "--change", "ENV LANG=C.UTF-8", str(tarball), LOCAL_BASE], check=True,
        stdout=subprocess.DEVNULL)
    return LOCAL_BASE


def default_base() -> str:
    """mmdebstrap's base where mmdebstrap is installed (no registry needed), else the official
    Python image. TFEXAM_IMAGE_BASE decides when set."""
    chosen = os.environ.get("TFEXAM_IMAGE_BASE")
    if chosen:
        return chosen
    if image_exists(LOCAL_BASE) or (cache_dir() / "base-bookworm.tar").exists() \
            or shutil.which("mmdebstrap"):
        return make_base()
    return OFFICIAL_BASE


def host_ca_bundle() -> str | None:
    """The CA bundle the host's pip trusts (a company's or a proxy's certificate may be in it):
    the build mounts it for pip and does not keep it in the image."""
    candidates = [os.environ.get("PIP_CERT")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        candidates.append(subprocess.run([sys.executable, "-m", "pip", "config", "get",
                                          "global.cert"], capture_output=True, text=True,
                                         timeout=60).stdout.strip())
    candidates.append("/etc/ssl/certs/ca-certificates.crt")
    return next((c for c in candidates if c and os.path.isfile(c)), None)


def build(base: str | None, tag: str) -> None:
    started = time.monotonic()
    base = base or default_base()
    wheels = cache_dir() / "wheels"
    wheels.mkdir(exist_ok=True)
    argv = ["build", "-f", str(CONTAINERFILE), "-t", tag, "--build-arg", f"BASE={base}",
            "--network", "host", "-v", f"{wheels}:/run/wheelhouse",
            "--build-arg", "WHEELHOUSE=/run/wheelhouse"]
    bundle = host_ca_bundle()
    if bundle:
        argv += ["-v", f"{bundle}:/run/host-ca.crt:ro", "--build-arg", "HOST_CA=/run/host-ca.crt"]
    if engine() == "docker":  # docker build has no -v: no kept wheels, no host CA bundle
        argv = ["build", "-f", str(CONTAINERFILE), "-t", tag, "--build-arg", f"BASE={base}",
                "--network", "host"]
    print(f"==> Building {tag} from {base} with {engine()}: "
          f"{engine()} {shlex.join(argv)} {REPO}", flush=True)
    run([*argv, str(REPO)], check=True)
    seconds = time.monotonic() - started
    size = run(["image", "inspect", "--format", "{{.Size}}", tag], capture_output=True,
               check=True).stdout.strip()
    print(f"==> Built {tag} in {seconds:.0f} s; image size {int(size) / 1e9:.2f} GB "
          f"({engine()} image inspect --format '{{{{.Size}}}}' {tag})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="build the image; prints its build time and size")
    build_parser.add_argument("--base", help=f"the base image (default: mmdebstrap's from "
                              f"Debian's archive where mmdebstrap is installed, else {OFFICIAL_BASE})")
    build_parser.add_argument("--tag", default=os.environ.get("TFEXAM_IMAGE", IMAGE))
    sub.add_parser("engine", help="print the container engine used")
    sub.add_parser("env", help="print the environment podman needs here, for a shell's export")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.base, args.tag)
    elif args.command == "engine":
        print(engine())
    elif args.command == "env" and engine() == "podman":
        print(f"CONTAINERS_CONF={podman_settings()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
