#!/usr/bin/env bash
# Debian 11's bubblewrap (0.4.1: no --disable-userns, no --size), for the tests of bubblewrap mode
# with an older bwrap. Fetched once with apt from Debian 11's suite of the mirror this machine
# already uses (read from its own apt sources, so no host is named here), unpacked (not installed)
# under ~/.cache/tfexam-ci, and reused from there. Prints the path of its bwrap.
set -euo pipefail
dest="${XDG_CACHE_HOME:-$HOME/.cache}/tfexam-ci/bubblewrap-bullseye"
if [ ! -x "$dest/usr/bin/bwrap" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/sources" "$work/lists/partial" "$work/cache/archives/partial"
  mirror=""
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' "$file")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || { echo "no Debian mirror in this machine's apt sources" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\nSigned-By: %s\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg > "$work/sources/bullseye.sources"
  : > "$work/status"
  options=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources"
           -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
           -o "Dir::State::status=$work/status" -o "Dir::Etc::Preferences=/dev/null"
           -o "Dir::Etc::PreferencesParts=/dev/null" -o "APT::Sandbox::User=root")
  apt-get "${options[@]}" update -q >&2
  (cd "$work" && apt-get "${options[@]}" download bubblewrap >&2)
  mkdir -p "$dest.new"
  dpkg-deb -x "$work"/bubblewrap_*.deb "$dest.new"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
fi
echo "$dest/usr/bin/bwrap"
