#!/usr/bin/env bash
# The README's second command: set up from nothing, then run every test tier
# and print the counts of each.
#   lint     ruff, ansible-lint (production profile), antsibull-changelog lint
#            and a shell script check
#   sanity   ansible-test sanity, on the collection installed from its tarball
#   units    ansible-test units (the collection's plugins)
#   unit     pytest of the lab tool's logic
#   lab      in a kernel with IPVS: the guest test suite and the Molecule
#            scenarios (two guests at a time), then the runner's own tests
#   bench    the IPVS table benchmark in one guest of its own; prints its
#            table, fails only if a table read back wrong
# Usage: scripts/test.sh [TIER...]     (default: all tiers, in that order)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
"$ROOT/scripts/setup.sh" || exit 1
. "$ROOT/scripts/env.sh"

LOGS=$ROOT/.build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
INSTALLED=$ROOT/.build/collections/ansible_collections/lvs/ipvs
TIERS=("$@")
((${#TIERS[@]})) || TIERS=(lint sanity units unit lab bench)
SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0
say() { printf '==> %s\n' "$*"; }

# junit FILE...: "passed failed skipped" summed over junit files; a missing
# or unreadable file counts as one failure.
junit() {
    python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
p = f = s = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        f += 1
        continue
    for suite in root.iter("testsuite"):
        tests, fail = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        p, f, s = p + tests - fail - skip, f + fail, s + skip
print(p, f, s)
PY
}

# record TIER PASSED FAILED SKIPPED SECONDS [NOTE]
record() {
    SUMMARY+=("$(printf '%-7s %6s %6s %7s %6ss  %s' "$1" "$2" "$3" "$4" "$5" "${6:-}")")
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
    printf '    %s: %s passed, %s failed, %s skipped in %ss\n' "$1" "$2" "$3" "$4" "$5"
}

# check LOG CMD...: run one check quietly; show its log if it fails.
check() {
    local log=$1
    shift
    if "$@" >"$log" 2>&1; then
        return 0
    fi
    echo "    FAILED: $*"
    tail -n 60 "$log" | sed 's/^/    | /'
    return 1
}

tier_lint() {
    local passed=0 failed=0
    if check "$LOGS/ruff.log" ruff check .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/ruff-format.log" ruff format --check .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/ansible-lint.log" ansible-lint --profile production; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/changelog.log" antsibull-changelog lint; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/shellcheck.log" shellcheck -x scripts/*.sh .ci/run tests/lab/lvslab/guest-init.sh tests/lab/bin/lvslab
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    echo "$passed $failed 0" >&3
}

# ansible-test wants the ansible_collections/NS/NAME layout and lists files
# with git when it finds a repository: the installed copy becomes its own.
snapshot_installed() {
    [ -d "$INSTALLED/.git" ] && return 0
    printf 'tests/output/\n' > "$INSTALLED/.gitignore"
    git -C "$INSTALLED" init -q &&
        git -C "$INSTALLED" add -A &&
        git -C "$INSTALLED" -c user.name=lvs.ipvs -c user.email=tests@lvs.ipvs.invalid commit -qm "installed tarball"
    python3 "$ROOT/scripts/ansible_test_bootstrap.py" >/dev/null
}

tier_sanity() {
    snapshot_installed
    (cd "$INSTALLED" && ansible-test sanity --venv --python 3.11 --color no) >"$LOGS/sanity.log" 2>&1
    local rc=$?
    local ran failed
    ran=$(grep -c '^Running sanity test' "$LOGS/sanity.log")
    failed=$(grep -c '^ERROR: Found' "$LOGS/sanity.log")
    if [ "$rc" -ne 0 ]; then
        grep -E '^(ERROR|FATAL)|^tests/|^plugins/|^playbooks/|^roles/' "$LOGS/sanity.log" | head -n 60 | sed 's/^/    | /'
        [ "$failed" -eq 0 ] && failed=1
    fi
    echo "$((ran - failed)) $failed 0" >&3
}

tier_units() {
    snapshot_installed
    rm -rf "$INSTALLED/tests/output/junit"
    (cd "$INSTALLED" && ansible-test units --venv --python 3.11 --color no) >"$LOGS/units.log" 2>&1 ||
        tail -n 40 "$LOGS/units.log" | sed 's/^/    | /'
    junit "$INSTALLED"/tests/output/junit/*.xml >&3
}

tier_unit() {
    python3 -m pytest -p no:cacheprovider -q tests/lab/tests/unit --junitxml "$LOGS/unit.xml" \
        >"$LOGS/unit.log" 2>&1 || tail -n 40 "$LOGS/unit.log" | sed 's/^/    | /'
    junit "$LOGS/unit.xml" >&3
}

# molecule_lane LOG SCENARIO...: each scenario in a guest of its own, one
# after the other; "rc=N SCENARIO" lines in LOG tell how each ended.
molecule_lane() {
    local log=$1 scenario
    shift
    for scenario in "$@"; do
        echo "--- molecule test -s $scenario"
        lvslab run --timeout 1500 -- molecule test -s "$scenario"
        echo "rc=$? $scenario"
    done >>"$log" 2>&1
}

tier_lab() {
    # Two guests at a time. Lane one: the kernel-facing suite in one pytest
    # process, then half of the per-mode scenarios; lane two: the every-mode
    # scenario, then the other half.
    local guest_dir scenario lane_one=() lane_two=(modes) mol_passed=0 mol_failed=0 i=0
    guest_dir=$ROOT/.lab/runs/test-guest-$(date +%Y%m%d-%H%M%S)
    for scenario in extensions/molecule/*/molecule.yml; do
        scenario=$(basename "$(dirname "$scenario")")
        [ "$scenario" = modes ] && continue
        if ((i++ % 2)); then lane_two+=("$scenario"); else lane_one+=("$scenario"); fi
    done
    : >"$LOGS/lab-molecule-1.log"
    : >"$LOGS/lab-molecule-2.log"
    {
        lvslab run --run-dir "$guest_dir" --timeout 1500 -- python3 -m pytest -p no:cacheprovider -v \
            tests/lab/tests/guest --junitxml "$guest_dir/junit.xml" >"$LOGS/lab-guest.log" 2>&1 ||
            tail -n 40 "$LOGS/lab-guest.log" | sed 's/^/    | /'
        molecule_lane "$LOGS/lab-molecule-1.log" "${lane_one[@]}"
    } &
    local lane_one_pid=$!
    molecule_lane "$LOGS/lab-molecule-2.log" "${lane_two[@]}"
    wait "$lane_one_pid"
    for scenario in "${lane_one[@]}" "${lane_two[@]}"; do
        if grep -qh "^rc=0 $scenario\$" "$LOGS"/lab-molecule-*.log; then
            mol_passed=$((mol_passed + 1))
        else
            mol_failed=$((mol_failed + 1))
            echo "    FAILED: molecule scenario $scenario (log: $(grep -l -- "-s $scenario\$" "$LOGS"/lab-molecule-*.log))"
            awk -v s="--- molecule test -s $scenario" '$0 == s {on=1} on' "$LOGS"/lab-molecule-*.log |
                grep -E 'fatal:|FAILED|FAIL |ERROR|CRITICAL' | head -n 20 | sed 's/^/    | /'
        fi
    done
    # The runner's own tests boot guests of their own, so they come after.
    python3 -m pytest -p no:cacheprovider -q tests/lab/tests/runner --junitxml "$LOGS/lab-runner.xml" \
        >"$LOGS/lab-runner.log" 2>&1 || tail -n 40 "$LOGS/lab-runner.log" | sed 's/^/    | /'
    read -r p f s < <(junit "$guest_dir/junit.xml" "$LOGS/lab-runner.xml")
    echo "$((p + mol_passed)) $((f + mol_failed)) $s" >&3
}

tier_bench() {
    # Alone in the machine, so that nothing else skews the figures.
    if lvslab run --timeout 1500 -- python3 tests/lab/bench/ipvs_table.py >"$LOGS/bench.log" 2>&1; then
        sed -n '/^IPVS table benchmark/,/^initial apply:/p' "$LOGS/bench.log" | sed 's/^/    /'
        echo "1 0 0" >&3
    else
        tail -n 40 "$LOGS/bench.log" | sed 's/^/    | /'
        echo "0 1 0" >&3
    fi
}

for tier in "${TIERS[@]}"; do
    case $tier in
        lint) note="ruff, ruff format, ansible-lint, changelog, shellcheck" ;;
        sanity) note="ansible-test sanity tests" ;;
        units) note="ansible-test units" ;;
        unit) note="pytest tests/lab/tests/unit" ;;
        lab) note="guest pytest + molecule scenarios + runner" ;;
        bench) note="tests/lab/bench/ipvs_table.py" ;;
        *) echo "unknown tier: $tier" >&2; exit 2 ;;
    esac
    say "tier $tier ($note)"
    start=$SECONDS
    # A tier prints its progress on stdout and its "passed failed skipped" on fd 3.
    out=$("tier_$tier" 3>&1 1>&2)
    read -r passed failed skipped <<<"$out"
    record "$tier" "${passed:-0}" "${failed:-1}" "${skipped:-0}" "$((SECONDS - start))" "$note"
done

echo
echo "tier    passed failed skipped   time  what"
printf '%s\n' "${SUMMARY[@]}"
echo "logs: $LOGS"
echo "total: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ] && [ "$TOTAL_PASSED" -gt 0 ]
