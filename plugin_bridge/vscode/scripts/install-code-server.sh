#!/usr/bin/env bash
# Install code-server (VS Code 1.100.3 in a browser) into a cache folder outside the repository,
# offline but for the npm registry, so the extension can be tested in a real VS Code.
# Reused when already present. Usage: install-code-server.sh [DIR]
# (default $TFEXAM_CODE_SERVER_DIR or ~/.cache/tfexam-ci/code-server-4.100.3).
set -euo pipefail
VERSION=4.100.3
DIR="${1:-${TFEXAM_CODE_SERVER_DIR:-$HOME/.cache/tfexam-ci/code-server-$VERSION}}"
BIN="$DIR/node_modules/.bin/code-server"
if [ -x "$BIN" ] && [ -f "$DIR/.installed" ]; then
  echo "$BIN"
  exit 0
fi
command -v rg >/dev/null || { echo "install-code-server: needs ripgrep (apt-get install ripgrep)" >&2; exit 1; }
mkdir -p "$DIR"
# @vscode/ripgrep downloads this tarball at install time; build it from Debian's rg instead.
tmp="${TMPDIR:-/tmp}"
cache="$tmp/vscode-ripgrep-cache-1.15.11"
tarball="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$tarball" ]; then
  mkdir -p "$cache"
  stage="$(mktemp -d)"
  cp "$(command -v rg)" "$stage/rg"
  tar -C "$stage" -czf "$tarball" rg
  rm -rf "$stage"
fi
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
cd "$DIR"
[ -f package.json ] || echo '{"name": "tfexam-code-server", "private": true}' > package.json
npm install --no-audit --no-fund --loglevel=error "code-server@$VERSION" >&2
# npm 11 runs dependencies' install scripts only once they are approved.
if npm help install-scripts >/dev/null 2>&1; then
  npm install-scripts approve code-server argon2 >&2 || true
fi
npm rebuild code-server argon2 >&2
touch "$DIR/.installed"
echo "$BIN"
