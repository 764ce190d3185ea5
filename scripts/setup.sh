#!/usr/bin/env bash
# Installs what Qwen All-in-One needs: Debian packages for Qt (when apt-get and root are
# available), a virtual environment in .venv, and the project with the extras given as $1.
# Safe to run again: it only installs what is missing. llama-cpp-python compiles once (about
# 7 minutes on 2 cores); pip's cache keeps the wheel for later environments.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

# Qt's libraries (offscreen and X11), fonts for Chinese and emoji, desktop-file-validate.
debs=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
      libxcb-randr0 libxcb-render-util0 libxcb-image0 fonts-noto-cjk fonts-noto-color-emoji
      desktop-file-utils)
command -v cmake >/dev/null 2>&1 || debs+=(cmake)
command -v g++ >/dev/null 2>&1 || debs+=(g++)
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  echo "Installing llama-cpp-python (compiles once, about 7 minutes on 2 cores)..."
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
