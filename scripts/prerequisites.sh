#!/usr/bin/env bash
# Says which program `make` needs and cannot find, and how to get it; exits non-zero then.
#
# Usage: scripts/prerequisites.sh python PYTHON   (Python >= 3.11 that can create a virtualenv)
#        scripts/prerequisites.sh node            (Node.js >= 18 and npm, for the ASL validators)
set -euo pipefail

MIN_PYTHON="3.11"
MIN_NODE=16  # npm 7 or newer reads package-lock.json (lockfileVersion 3)

missing() {
    printf 'make: missing prerequisite: %s\n' "$1" >&2
    shift
    for line in "$@"; do printf '      %s\n' "$line" >&2; done
    exit 1
}

check_python() {
    local python="$1"
    command -v "$python" >/dev/null 2>&1 \
        || missing "$python (Python $MIN_PYTHON or newer)" \
            "install it (Debian/Ubuntu: apt-get install python3 python3-venv), or name another: make PYTHON=python3.12 ..."
    "$python" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" \
        || missing "Python $MIN_PYTHON or newer ($python is $("$python" -c 'import platform; print(platform.python_version())'))" \
            "install a newer one and name it: make PYTHON=python3.12 ..."
    "$python" -c "import ensurepip, venv" >/dev/null 2>&1 \
        || missing "the venv module of $python (it creates the project's .venv/)" \
            "Debian/Ubuntu: apt-get install python3-venv"
}

check_node() {
    command -v node >/dev/null 2>&1 \
        || missing "node (Node.js $MIN_NODE or newer, for the ASL validators asl-validator and statelint)" \
            "Debian/Ubuntu: apt-get install nodejs npm; elsewhere: https://nodejs.org"
    command -v npm >/dev/null 2>&1 \
        || missing "npm (installs the ASL validators from package-lock.json)" "Debian/Ubuntu: apt-get install npm"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    ((major >= MIN_NODE)) || missing "Node.js $MIN_NODE or newer (node is $(node --version))" "install a newer Node.js"
}

case "${1:-}" in
    python) check_python "${2:-python3}" ;;
    node) check_node ;;
    *) echo "usage: $0 python PYTHON | node" >&2; exit 2 ;;
esac
