#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image. Pick the Ubuntu 24.04 base
# image (Python 3.12): the pinned numpy needs Python >= 3.11. The zip's files are in
# /autograder/source. Installs the course's requirements.txt (CPU-only PyTorch wheels) and
# requirements-grader.txt (packages submissions may import) and bubblewrap (the sandbox for
# student code; it runs as a fresh unprivileged uid per job, which needs no account). The
# reference outputs are computed for every grading, on fresh inputs: nothing is cached here.
set -euo pipefail
cd "$(dirname "$0")"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null

python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python {sys.version.split()[0]} is too old for requirements.txt: choose the "
             "Ubuntu 24.04 base image in Gradescope's autograder settings")
PY

chmod 700 /autograder/source  # the reference and the grader: root only

python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install -q --upgrade pip
/autograder/venv/bin/python -m pip install -q \
    --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt \
    -r requirements-grader.txt
chmod -R a+rX /autograder/venv  # the sandbox's uids run Python from here
