#!/bin/sh
# Installs what the tests need on Debian/Ubuntu: the distribution's Chromium for the browser tests
# (test/e2e, driven by playwright-core, no Playwright browser download), and Mosquitto, the real external
# broker of the external-broker tests (test/helpers/mosquitto.ts), with its clients for poking by hand.
# Set CHROMIUM_PATH if Chromium lives somewhere other than /usr/bin/chromium.
set -eu

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && [ -x "${MOSQUITTO_PATH:-/usr/sbin/mosquitto}" ] &&
  command -v mosquitto_passwd >/dev/null 2>&1 && command -v mosquitto_pub >/dev/null 2>&1; then
  echo "chromium, mosquitto and mosquitto-clients are already installed"
  exit 0
fi

$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium mosquitto mosquitto-clients
"${CHROMIUM_PATH:-/usr/bin/chromium}" --version
