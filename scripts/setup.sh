#!/usr/bin/env bash
# Installs what Qwen All-in-One needs: Debian packages for Qt (when apt-get and root are
# available), a virtual environment in .venv, and the project with the extras given as $1.
# Safe to run again: it only installs what is missing, and the project only when pyproject.toml,
# the Python or the extras changed (pip's output goes to .venv/install.log). llama-cpp-python
# compiles once (about 7 minutes on 2 cores); pip's cache keeps the wheel for later venvs.
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

# Install only when something changed: the stamp records the Python, pyproject.toml (the
# dependency list, entry points and package layout) and the extras installed (kept: run.sh
# after test.sh does not drop the test tools). The install is editable, so a change to the code
# itself needs no reinstall.
stamp=.venv/.qwen-aio-install-stamp
key=$(.venv/bin/python -c 'import hashlib, sys; print(sys.version.split()[0] + "-" + hashlib.sha256(
open("pyproject.toml", "rb").read()).hexdigest()[:16])')
old_key="" old_extras=""
[ -f "$stamp" ] && read -r old_key old_extras < "$stamp" || true
wanted=$(printf '%s\n' ${old_extras//,/ } ${extras//,/ } | sort -u | paste -sd, -)
if [ "$old_key" = "$key" ] && [ "$wanted" = "$old_extras" ] && [ -x .venv/bin/qwen-aio ]; then
  exit 0
fi
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  echo "Installing llama-cpp-python (compiles once, about 7 minutes on 2 cores)..."
fi
echo "Installing Qwen All-in-One into .venv${wanted:+ (extras: $wanted)}..."
spec="."
[ -n "$wanted" ] && spec=".[$wanted]"
log=.venv/install.log
if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
       .venv/bin/python -m pip install --disable-pip-version-check -e "$spec"; } >"$log" 2>&1
then
  tail -n 40 "$log" >&2
  echo "The install failed; the whole log is in $log." >&2
  exit 1
fi
echo "$key $wanted" > "$stamp"
