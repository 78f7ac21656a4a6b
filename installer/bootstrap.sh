#!/usr/bin/env bash
# Set up WattDesk on a fresh Debian/Ubuntu machine and run it.
#
#   bash installer/bootstrap.sh demo [wattdesk demo options]   # install, then start the demo plant
#   bash installer/bootstrap.sh test [pytest options]          # install with test tools, run the tests
#
# Installs the Debian packages it needs (when run as root or with sudo), makes a virtual
# environment in .venv and installs WattDesk into it. Safe to run again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"; shift || true
case "$mode" in
  demo|test) ;;
  *) echo "usage: bash installer/bootstrap.sh demo|test [options]" >&2; exit 2 ;;
esac

# Debian packages: Python venv support; Qt's runtime libraries and CJK fonts for the workstation
# (the UI is Chinese by default); for the tests also a PostgreSQL server (the tests start private
# clusters from its binaries), socat (pty pairs for serial lines), mosquitto (private MQTT brokers) and poppler-utils
# (pdftotext reads the PDF reports back).
apt_pkgs=(python3-venv python3-dev fonts-noto-cjk fonts-wqy-microhei
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1)
if [ "$mode" = test ]; then
  apt_pkgs+=(postgresql socat mosquitto poppler-utils)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "WattDesk needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
  export QT_QPA_PLATFORM=offscreen
  .venv/bin/lint-imports
  exec .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pip install -q -e .
  exec .venv/bin/wattdesk demo "$@"
fi
