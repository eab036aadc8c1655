#!/bin/sh
# Installs what the tests need on Debian/Ubuntu: the distribution's Chromium for the browser tests
# (test/e2e, driven by playwright-core, no Playwright browser download), and Mosquitto, the real external
# broker of the external-broker tests (test/helpers/mosquitto.ts), with its clients for poking by hand, and a
# Japanese font: without one Chromium draws the Japanese UI as boxes (test/e2e/i18n.test.ts, the screenshots).
# Set CHROMIUM_PATH if Chromium lives somewhere other than /usr/bin/chromium.
set -eu

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && [ -x "${MOSQUITTO_PATH:-/usr/sbin/mosquitto}" ] &&
  command -v mosquitto_passwd >/dev/null 2>&1 && command -v mosquitto_pub >/dev/null 2>&1 &&
  fc-list :lang=ja family 2>/dev/null | grep -q .; then
  echo "chromium, mosquitto, mosquitto-clients and a Japanese font are already installed"
  exit 0
fi

$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium mosquitto mosquitto-clients \
  fonts-ipafont-gothic
"${CHROMIUM_PATH:-/usr/bin/chromium}" --version
