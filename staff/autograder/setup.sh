#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image. Pick the Ubuntu 24.04 base
# image (Python 3.12): the pinned numpy needs Python >= 3.11. The zip's files are in
# /autograder/source. Installs the course's requirements.txt (CPU-only PyTorch wheels).
set -euo pipefail
cd "$(dirname "$0")"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip >/dev/null

python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python {sys.version.split()[0]} is too old for requirements.txt: choose the "
             "Ubuntu 24.04 base image in Gradescope's autograder settings")
PY

python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install -q --upgrade pip
/autograder/venv/bin/python -m pip install -q \
    --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt
