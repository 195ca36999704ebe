#!/usr/bin/env bash
# Installs everything BuscaEscenas and its tests need on Debian 12 with Python 3.11:
# apt packages (ffmpeg, Apertium's Spanish-English pair for query translation, chromium for the
# browser test, espeak-ng and speech samples for the Whisper tests) and a virtual environment in
# .venv with the pinned Python packages.
#   ./install.sh              runtime + test dependencies
#   ./install.sh --runtime    runtime only (what the Dockerfile uses)
set -euo pipefail
cd "$(dirname "$0")"

runtime_only=false
[[ "${1:-}" == "--runtime" ]] && runtime_only=true

sudo=""
[[ "$(id -u)" != 0 ]] && sudo="sudo"

apt_packages=(ffmpeg python3-venv apertium-eng-spa)
# fonts-noto-color-emoji: the cards' 👍 / 👎 in the browser test's screenshots
$runtime_only || apt_packages+=(chromium fonts-noto-color-emoji espeak-ng pocketsphinx-testdata)
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${apt_packages[@]}"

python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if $runtime_only; then
  .venv/bin/python -m pip install -q -r requirements.txt
else
  .venv/bin/python -m pip install -q -r requirements-dev.txt
fi
echo "installed: $(.venv/bin/python --version), $(ffmpeg -version | head -n 1)"
