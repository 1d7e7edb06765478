#!/usr/bin/env bash
# Validate the deployable: sam validate --lint, sam build (makefile builds, no Docker),
# cfn-lint on the template and on a copy with the ASL inlined, checkov, asl-validator
# and statelint.
#
# Installs nothing outside the repository: the SAM CLI and checkov each get their own
# virtualenv under .venv-tools/ (their dependencies clash with the test requirements
# and with each other). cfn-lint comes from requirements-dev.txt; asl-validator and
# statelint from `npm ci` (node_modules/).
#
# Usage: scripts/check-template.sh [--skip-build]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SAM_CLI_VERSION="1.170.0"
CHECKOV_VERSION="3.3.30"
TOOLS="$ROOT/.venv-tools"
PYTHON="${PYTHON:-python3}"
SKIP_BUILD=false
[[ "${1:-}" == "--skip-build" ]] && SKIP_BUILD=true

# SAM and cfn-lint want a region; nothing here talks to AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0
# checkov would otherwise try to fetch guidelines from its vendor's API.
export BC_SKIP_MAPPING=TRUE

failures=()
step() { printf '\n== %s\n' "$*"; }
record() {  # record NAME STATUS
    if [[ "$2" -ne 0 ]]; then failures+=("$1"); printf -- '-- %s: FAILED\n' "$1"; else printf -- '-- %s: ok\n' "$1"; fi
}

ensure_venv() {  # ensure_venv NAME REQUIREMENT
    local venv="$TOOLS/$1"
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip show --quiet "${2%%==*}" >/dev/null 2>&1 \
        || [[ "$("$venv/bin/python" -m pip show "${2%%==*}" 2>/dev/null | sed -n 's/^Version: //p')" != "${2##*==}" ]]; then
        step "installing $2 into .venv-tools/$1"
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$2"
    fi
}

start=$SECONDS
ensure_venv sam "aws-sam-cli==$SAM_CLI_VERSION"
ensure_venv checkov "checkov==$CHECKOV_VERSION"
echo "tools ready after $((SECONDS - start))s"

step "sam validate --lint"
set +e
"$TOOLS/sam/bin/sam" validate --lint --template template.yaml
record "sam validate --lint" $?

if [[ "$SKIP_BUILD" == false ]]; then
    step "sam build (makefile builds, no container)"
    build_dir="$(mktemp -d)"
    "$TOOLS/sam/bin/sam" build --template-file template.yaml --build-dir "$build_dir/build" \
        --cache-dir "$build_dir/cache"
    record "sam build" $?
    rm -rf "$build_dir"
fi

step "cfn-lint on template.yaml and on the copy with the ASL inlined"
"$PYTHON" tests/template/template_support.py lint
record "cfn-lint" $?

step "checkov"
"$TOOLS/checkov/bin/checkov" --file template.yaml --framework cloudformation --compact --quiet --skip-download
record "checkov" $?

step "asl-validator and statelint"
if [[ ! -x node_modules/.bin/asl-validator || ! -x node_modules/.bin/statelint ]]; then
    echo "node_modules is missing: run 'npm ci' first"
    record "asl-validator/statelint" 1
else
    asl_status=0
    tmp="$(mktemp -d)"
    for asl in statemachine/*.asl.json; do
        [[ -e "$asl" ]] || { echo "no statemachine/*.asl.json"; asl_status=1; break; }
        # Both tools read plain ASL: resolve the substitutions as CloudFormation would.
        resolved="$tmp/$(basename "$asl")"
        "$PYTHON" tests/template/template_support.py resolve "$asl" "$resolved" || asl_status=1
        node_modules/.bin/asl-validator --json-path "$resolved" || asl_status=1
        "$PYTHON" tests/template/template_support.py statelint-copy "$resolved" "$resolved.statelint" || asl_status=1
        lint_output="$(node_modules/.bin/statelint "$resolved.statelint")" || asl_status=1
        if [[ -n "$lint_output" ]]; then echo "$lint_output"; asl_status=1; else echo "statelint: $asl ok"; fi
    done
    rm -rf "$tmp"
    record "asl-validator/statelint" $asl_status
fi
set -e

echo
echo "check-template finished in $((SECONDS - start))s"
if ((${#failures[@]})); then
    echo "failed: ${failures[*]}"
    exit 1
fi
echo "all template checks passed"
