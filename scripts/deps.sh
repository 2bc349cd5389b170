#!/bin/sh
# Installs the Debian packages mercuryctl needs to build, test and benchmark,
# only those missing. As root it calls apt-get; otherwise sudo apt-get.
set -eu

# What to build mercuryctl, what `make check` needs on top, and the peers
# `make bench` compares with. Usage: deps.sh [build|test|bench] (default
# test).
BUILD="
build-essential
pkg-config
libcurl4-openssl-dev
libsqlite3-dev
libjansson-dev
libhiredis-dev
libinih-dev
libssl-dev
libc-ares-dev
libzstd-dev
"
TEST="
libcriterion-dev
sqlite3
redis-server
redis-tools
prometheus-pushgateway
python3
curl
util-linux
iproute2
jq
groff-base
zsh
fish
procps
time
hyperfine
valgrind
prometheus
prometheus-alertmanager
monitoring-plugins-basic
python3-cryptography
openssl
nodejs
postgresql
"
BENCH="
python3-redis
apprise
zstd
restic
moreutils
"
case ${1:-test} in
build) PACKAGES=$BUILD ;;
test) PACKAGES="$BUILD $TEST" ;;
bench) PACKAGES="$BUILD $TEST $BENCH" ;;
*) echo "usage: deps.sh [build|test|bench]" >&2; exit 64 ;;
esac

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
# The OAuth test server (scripts/oauth-server) runs on Node.js with npm;
# a Node.js from elsewhere (nodesource) brings its own npm, and Debian's npm
# would conflict with it: ask for npm only when there is none.
case "$PACKAGES" in
*nodejs*) command -v npm >/dev/null 2>&1 || missing="$missing npm" ;;
esac
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An update first: a fresh machine's package lists may be empty or stale.
# Another apt run (a second checkout, a helper) may hold the dpkg lock:
# wait for it rather than fail.
APT_WAIT="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
$SUDO apt-get $APT_WAIT update -qq
# shellcheck disable=SC2086
$SUDO apt-get $APT_WAIT install -y -qq --no-install-recommends $missing >/dev/null
