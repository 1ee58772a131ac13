#!/usr/bin/env bash
# Install what the benchmark's test-song generator needs; safe to run again.
#
#   bench/install_bench_deps.sh VENV
#
# System: wrk (HTTP load), PostgreSQL and Redis (the production benchmarks), the fluidsynth synthesiser and Debian's General MIDI soundfont
# (fluid-soundfont-gm, /usr/share/sounds/sf2/FluidR3_GM.sf2), espeak-ng (the karaoke set's sung words),
# installed with apt only if missing. Python: requirements-bench.txt, into the virtual environment VENV.
set -euo pipefail

venv="${1:?usage: $0 VENV (the virtual environment to install into)}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
for package in fluidsynth fluid-soundfont-gm espeak-ng wrk postgresql redis-server; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "Installing ${missing[*]} with apt"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

"$venv/bin/python" -m pip install --quiet -r "$root/requirements-bench.txt"
