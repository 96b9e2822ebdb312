#!/usr/bin/env bash
# Installs the Debian packages the build needs (libhiredis-dev: the Redis client the server links),
# and with --services those the live-service tests need (PostgreSQL, Redis, Python for the
# OpenAPI checks, nginx in front of check-multinode.sh's three nodes, headless Chromium driven by
# Selenium for check-browser.sh). Does nothing for packages already installed; needs root (or sudo)
# otherwise.
set -euo pipefail

packages=(libhiredis-dev)
if [ "${1:-}" = "--services" ]; then
    packages+=(postgresql redis-server redis-tools python3-venv curl nginx chromium chromium-driver python3-selenium)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
