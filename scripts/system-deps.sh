#!/usr/bin/env bash
# Installs the system packages IsoMix needs (Debian): ffmpeg for media, GNU gettext to
# compile (and, in the tests, extract) the translation catalogues, and for the tests, Chromium
# (--browser) and any Debian packages named after it (espeak-ng speaks the lyrics tests' voices).
# Idempotent: installs only what is missing.
set -euo pipefail

want=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || want+=(ffmpeg)
command -v msgfmt >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 || want+=(gettext)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
fi
for extra in "${@:2}"; do
  dpkg -s "$extra" >/dev/null 2>&1 || want+=("$extra")
done
[ ${#want[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${want[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}"
