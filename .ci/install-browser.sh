#!/bin/sh
# Installs what the browser tests (test/e2e) need on Debian/Ubuntu: the distribution's Chromium, driven by
# playwright-core (no Playwright browser download), plus mosquitto tools for poking at the broker by hand.
# Set CHROMIUM_PATH if Chromium lives somewhere other than /usr/bin/chromium.
set -eu

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && command -v mosquitto_pub >/dev/null 2>&1; then
  echo "chromium and mosquitto-clients are already installed"
  exit 0
fi

$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium mosquitto mosquitto-clients
"${CHROMIUM_PATH:-/usr/bin/chromium}" --version
