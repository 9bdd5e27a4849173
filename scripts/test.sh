#!/usr/bin/env bash
# The README's second command: set up from nothing, then run every test tier
# and print the counts of each.
#   lint     ruff, ansible-lint (production profile), antsibull-changelog lint,
#            antsibull-docs lint of the plugin and role docs, vermin (the
#            modules' code runs on the targets' oldest Python), a shell
#            script check, the generated doc fragment and the docs site's
#            RST pages (made from the Markdown guides) up to date
#   sanity   ansible-test sanity, on the collection installed from its tarball
#   units    ansible-test units (the collection's plugins)
#   matrix   ansible-test sanity and units again on the newest ansible-core
#            (MATRIX_CORE, on Python 3.12 or later from pyenv): run by the lab
#            tier once its second lane is done, else on its own
#   docs     the docs site built with antsibull-docs and Sphinx, and checked
#            for a page per plugin, role and guide: run by the lab tier once
#            its second lane is done, else on its own
#   unit     pytest of the lab tool's logic
#   lab      in a kernel with IPVS: the guest test suite and the Molecule
#            scenarios (two guests at a time), then the runner's own tests
#   bench    the IPVS table benchmark in one guest of its own; prints its
#            table, fails only if a table read back wrong
# Before the tiers that need it, `lvslab doctor` checks that the lab can run
# here. A test that could not run (the lab did not boot) is counted as "not
# run", each one, never as passed; any "not run" fails the command.
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
((${#TIERS[@]})) || TIERS=(lint sanity units unit lab bench matrix docs)
SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_NOT_RUN=0
LAB_OK=unknown
say() { printf '==> %s\n' "$*"; }
# asked TIER: whether this run asked for TIER.
asked() { [[ " ${TIERS[*]} " == *" $1 "* ]]; }

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

# record TIER PASSED FAILED NOT_RUN SKIPPED SECONDS [NOTE]
record() {
    SUMMARY+=("$(printf '%-7s %6s %6s %7s %7s %6ss  %s' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}")")
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
    TOTAL_NOT_RUN=$((TOTAL_NOT_RUN + $4))
    printf '    %s: %s passed, %s failed, %s not run, %s skipped in %ss\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

# cause LOG: why a run failed, from its log: the lab's own account when the
# lab did not run, else the lines that name an error, else the last lines.
cause() {
    local log=$1 lines
    if grep -q '^lvslab: the ' "$log"; then
        sed -n '/^lvslab: the /,/lvslab doctor$/p' "$log"
    else
        lines=$(grep -E 'fatal: |FAILED!|CRITICAL|ERROR|^E  |[A-Za-z]+Error: |Error: |assert ' "$log" | head -n 20)
        if [ -n "$lines" ]; then
            printf '%s\n' "$lines"
        else
            tail -n 15 "$log"
        fi
    fi | sed 's/^/    | /'
}

# collected PATH...: how many tests pytest finds there (counted on the host, so
# that tests a guest never ran can be counted as not run).
collected() {
    python3 -m pytest -p no:cacheprovider --collect-only -q "$@" 2>/dev/null |
        sed -n 's/^\([0-9][0-9]*\) tests\{0,1\} collected.*/\1/p' | tail -n 1
}

# doctor: is the lab usable here? Asked once, before the first tier that needs it.
doctor() {
    [ "$LAB_OK" != unknown ] && return 0
    say "can the lab run on this machine? (lvslab doctor)"
    if lvslab doctor >"$LOGS/doctor.log" 2>&1; then
        LAB_OK=yes
        grep -E '^  the lab kernel|guest boot|guest kernel|nf_tables|^verdict' "$LOGS/doctor.log" | sed 's/^/    /'
    else
        LAB_OK=no
        sed 's/^/    | /' "$LOGS/doctor.log"
        echo "    the lab cannot run here: its tests are counted as not run"
    fi
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
    # The code that runs on managed hosts must run on their oldest Python (README, "Support").
    if check "$LOGS/vermin.log" vermin --target=3.8- --violations --no-tips plugins/modules plugins/module_utils
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    # antsibull-docs reads the installed copy, where ansible-doc finds the collection.
    if check "$LOGS/antsibull-docs.log" sh -c "cd '$INSTALLED' && antsibull-docs lint-collection-docs --plugin-docs ."
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/doc-fragment.log" python3 scripts/doc_fragment.py --check
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/docsite-fresh.log" scripts/docsite.sh fresh
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    if check "$LOGS/shellcheck.log" shellcheck -x scripts/*.sh .ci/run tests/lab/lvslab/guest-init.sh tests/lab/bin/lvslab docs/examples/*.sh
    then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    echo "$passed $failed 0 0" >&3
}

# snapshot DIR PYTHON: ansible-test wants the ansible_collections/NS/NAME
# layout and lists files with git when it finds a repository, so an installed
# copy (DIR) becomes its own; PYTHON's ansible-test gets its pip bootstrap.
snapshot() {
    [ -d "$1/.git" ] && return 0
    printf 'tests/output/\n' > "$1/.gitignore"
    git -C "$1" init -q &&
        git -C "$1" add -A &&
        git -C "$1" -c user.name=lvs.ipvs -c user.email=tests@lvs.ipvs.invalid commit -qm "installed tarball" &&
        "$2" "$ROOT/scripts/ansible_test_bootstrap.py" >/dev/null
}

snapshot_installed() {
    snapshot "$INSTALLED" python3
}

# sanity_counts LOG RC: "passed failed" of an ansible-test sanity run; a
# failed run that names no failed test counts as one failure.
sanity_counts() {
    local ran failed
    ran=$(grep -c '^Running sanity test' "$1")
    failed=$(grep -c '^ERROR: Found' "$1")
    [ "$2" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
    echo "$((ran - failed)) $failed"
}

tier_sanity() {
    snapshot_installed
    (cd "$INSTALLED" && ansible-test sanity --venv --python 3.11 --color no) >"$LOGS/sanity.log" 2>&1
    local rc=$? p f
    if [ "$rc" -ne 0 ]; then
        grep -E '^(ERROR|FATAL)|^tests/|^plugins/|^playbooks/|^roles/' "$LOGS/sanity.log" | head -n 60 | sed 's/^/    | /'
    fi
    read -r p f < <(sanity_counts "$LOGS/sanity.log" "$rc")
    echo "$p $f 0 0" >&3
}

tier_units() {
    snapshot_installed
    rm -rf "$INSTALLED/tests/output/junit"
    (cd "$INSTALLED" && ansible-test units --venv --python 3.11 --color no) >"$LOGS/units.log" 2>&1 ||
        tail -n 40 "$LOGS/units.log" | sed 's/^/    | /'
    read -r p f sk < <(junit "$INSTALLED"/tests/output/junit/*.xml)
    echo "$p $f 0 $sk" >&3
}

# The newest ansible-core the README claims, beside the 2.19 the other tiers
# run: it needs Python 3.12 or later, which Debian 12 does not ship.
MATRIX_CORE=2.21.5
MATRIX=$ROOT/.build/matrix

# matrix_python: the newest Python 3.12 or later found (pyenv's, or on PATH).
matrix_python() {
    local candidate
    for candidate in /root/.pyenv/versions/3.1[3-9]*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3 \
        "$(command -v python3.13 || true)" "$(command -v python3.12 || true)"; do
        [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null &&
            { echo "$candidate"; return 0; }
    done
    return 1
}

# matrix_run: sanity and units on ansible-core MATRIX_CORE, on the tarball
# installed into a tree of its own; "passed failed not-run skipped" goes to
# $RUNS/matrix.counts for tier_matrix.
matrix_run() {
    local python pyxy venv=$MATRIX/venv-$MATRIX_CORE installed=$MATRIX/collections/ansible_collections/lvs/ipvs
    if ! python=$(matrix_python); then
        echo "no Python 3.12 or later (pyenv or PATH): ansible-core $MATRIX_CORE needs one" >"$LOGS/matrix.log"
        echo "0 0 2 0" >"$RUNS/matrix.counts"
        return
    fi
    pyxy=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    {
        if [ "$("$venv/bin/ansible-test" --version 2>/dev/null)" != "ansible-test version $MATRIX_CORE" ]; then
            rm -rf "$venv" && "$python" -m venv "$venv" &&
                "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$MATRIX_CORE"
        fi &&
            rm -rf "$MATRIX/collections" &&
            "$venv/bin/ansible-galaxy" collection install --offline --no-deps --force -p "$MATRIX/collections" \
                "$ROOT"/.build/dist/lvs-ipvs-*.tar.gz &&
            snapshot "$installed" "$venv/bin/python"
    } >"$LOGS/matrix.log" 2>&1 || { echo "0 1 0 0" >"$RUNS/matrix.counts"; return; }
    # On 2.20 and later an older Python is only a target's: ansible-test
    # would leave out the controller's plugins, so the tests run on pyxy.
    (cd "$installed" && PATH=$venv/bin:$PATH ansible-test sanity --venv --python "$pyxy" --color no) \
        >"$LOGS/matrix-sanity.log" 2>&1
    local rc=$? sp sf p f sk
    read -r sp sf < <(sanity_counts "$LOGS/matrix-sanity.log" "$rc")
    (cd "$installed" && PATH=$venv/bin:$PATH ansible-test units --venv --python "$pyxy" --color no) \
        >"$LOGS/matrix-units.log" 2>&1
    read -r p f sk < <(junit "$installed"/tests/output/junit/*.xml)
    echo "$((sp + p)) $((sf + f)) 0 $sk" >"$RUNS/matrix.counts"
}

# after_lab NAME: NAME's counts ($RUNS/NAME.counts), from the lab tier's
# second lane when it ran NAME there, else from NAME_run now.
after_lab() {
    if [ -e "$RUNS/$1.counts" ]; then
        echo "    (run during the lab tier, once its second lane was done)"
    else
        "$1_run"
    fi
}

tier_matrix() {
    after_lab matrix
    echo "    ansible-core $MATRIX_CORE: logs $LOGS/matrix-sanity.log, $LOGS/matrix-units.log"
    read -r p f n sk <"$RUNS/matrix.counts"
    if [ "$n" -ne 0 ]; then
        echo "    NOT RUN: $(cat "$LOGS/matrix.log")"
    elif [ "$f" -ne 0 ]; then
        echo "    FAILED (log: $LOGS/matrix.log)"
        grep -hE '^(ERROR|FATAL)|^FAILED |^E  ' "$LOGS/matrix.log" "$LOGS"/matrix-*.log 2>/dev/null | head -n 40 | sed 's/^/    | /'
    fi
    echo "$p $f $n $sk" >&3
}

# docs_run: the docs site from the tarball; "passed failed not-run skipped"
# goes to $RUNS/docs.counts for tier_docs.
docs_run() {
    if scripts/docsite.sh build "$ROOT/.build/docsite" >"$LOGS/docs.log" 2>&1; then
        echo "1 0 0 0" >"$RUNS/docs.counts"
    else
        echo "0 1 0 0" >"$RUNS/docs.counts"
    fi
}

tier_docs() {
    after_lab docs
    grep -E '^[0-9]+ pages expected|^ERROR|^site: ' "$LOGS/docs.log" | sed 's/^/    /'
    [ "$(cut -d' ' -f2 "$RUNS/docs.counts")" = 0 ] || tail -n 20 "$LOGS/docs.log" | sed 's/^/    | /'
    cat "$RUNS/docs.counts" >&3
}

tier_unit() {
    python3 -m pytest -p no:cacheprovider -q tests/lab/tests/unit --junitxml "$LOGS/unit.xml" \
        >"$LOGS/unit.log" 2>&1 || tail -n 40 "$LOGS/unit.log" | sed 's/^/    | /'
    read -r p f sk < <(junit "$LOGS/unit.xml")
    echo "$p $f 0 $sk" >&3
}

# scale_out_proofs: add the scale_out scenario's proofs (tests/lab/tests/scale_out,
# run by its verify) to the lab tier's counts, and print their table; when
# verify never ran them, each is not run.
scale_out_proofs() {
    local xml=$RUNS/molecule-scale_out/scale_out.xml n
    if [ -s "$xml" ]; then
        read -r p f s < <(junit "$xml")
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        sed 's/^/    /' "$RUNS/molecule-scale_out/scale_out-table.txt" 2>/dev/null || true
    else
        n=$(cat tests/lab/tests/scale_out/test_*.py | grep -c '^def test_')
        not_run=$((not_run + n))
        echo "    NOT RUN: the $n active-active proofs (the scale_out scenario did not reach verify)"
    fi
}

# molecule_lane LOG SCENARIO...: each scenario in a guest of its own, one
# after the other; "rc=N SCENARIO" lines in LOG tell how each ended, and a
# scenario whose guest never ran leaves a not-run file in its run directory.
molecule_lane() {
    local log=$1 scenario
    shift
    local clock=()
    for scenario in "$@"; do
        echo "--- molecule test -s $scenario"
        # The benchmark's fleet figure is this scenario's idempotence run: a
        # no-change run of lvs.ipvs.site on the demo's topology, clocked.
        clock=()
        # (In its run directory: a guest writes elsewhere only into its own overlay.)
        [ "$scenario" = modes ] && clock=(env "BENCH_CLOCK=$RUNS/molecule-modes/fleet-clock.jsonl"
            ANSIBLE_CALLBACKS_ENABLED=bench_clock
            "ANSIBLE_CALLBACK_PLUGINS=$ROOT/tests/lab/bench/callback_plugins")
        lvslab run --run-dir "$RUNS/molecule-$scenario" --timeout 1500 -- "${clock[@]}" molecule test -s "$scenario"
        echo "rc=$? $scenario"
    done >>"$log" 2>&1
}

# suite NAME DIR [TIMEOUT]: a pytest suite in a guest of its own, in one
# process; its junit file and log are left for count_suite.
suite() {
    lvslab run --run-dir "$RUNS/$1" --timeout "${3:-1500}" -- python3 -m pytest -p no:cacheprovider -v -s \
        "$2" --junitxml "$RUNS/$1/junit.xml" >"$LOGS/lab-$1.log" 2>&1
}

# PYROUTE2_FLOOR_TESTS: the guest tests of the modules that use pyroute2, run
# a second time with the oldest pyroute2 they support first on the path.
PYROUTE2_FLOOR_TESTS=(tests/lab/tests/guest/test_pyroute2_version.py tests/lab/tests/guest/test_ipvs_info.py
    tests/lab/tests/guest/test_ipvs_settings.py)

# floor_suite: those tests in a guest of their own, as suite does.
floor_suite() {
    local version
    version=$(cat .build/pyroute2-floor/.stamp)
    lvslab run --run-dir "$RUNS/pyroute2-floor" --timeout 1200 -- env PYTHONPATH="$ROOT/.build/pyroute2-floor" \
        LVS_PYROUTE2="$version" python3 -m pytest -p no:cacheprovider -v -s "${PYROUTE2_FLOOR_TESTS[@]}" \
        --junitxml "$RUNS/pyroute2-floor/junit.xml" >"$LOGS/lab-pyroute2-floor.log" 2>&1
}

# suite_path NAME: the tests of a suite.
suite_path() {
    case $1 in
        guest) echo tests/lab/tests/guest ;;
        ha-*) echo "tests/lab/tests/ha/test_${1//-/_}.py" ;;
        pyroute2-floor) echo "${PYROUTE2_FLOOR_TESTS[@]}" ;;
    esac
}

# count_suite NAME PATH...: "passed failed not-run skipped" of a suite; whatever
# its junit file does not count never ran.
count_suite() {
    local p=0 f=0 s=0 expected
    expected=$(collected "${@:2}")
    if [ -z "$expected" ]; then
        echo "    FAILED: cannot count the tests of ${*:2} (pytest --collect-only)" >&2
        echo "0 1 0 0"
        return
    fi
    [ -e "$RUNS/$1/junit.xml" ] && read -r p f s < <(junit "$RUNS/$1/junit.xml")
    if ((p + f + s < expected)); then
        echo "    NOT RUN: $((expected - p - f - s)) of $expected tests of ${*:2} (log: $LOGS/lab-$1.log)" >&2
        cause "$LOGS/lab-$1.log" >&2
    elif ((f)); then
        echo "    FAILED: $f tests of ${*:2} (log: $LOGS/lab-$1.log)" >&2
        grep -E '^(FAILED|ERROR) ' "$LOGS/lab-$1.log" | head -n 20 | sed 's/^/    | /' >&2
    fi
    local missing=$((expected - p - f - s))
    ((missing < 0)) && missing=0
    echo "$p $f $missing $s"
}

# runner_suite: the lab runner's own tests, on the host; they boot guests of
# their own, one at a time, so they run where at most one other guest does.
runner_suite() {
    python3 -m pytest -p no:cacheprovider -q tests/lab/tests/runner --junitxml "$LOGS/lab-runner.xml" \
        >"$LOGS/lab-runner.log" 2>&1 || tail -n 40 "$LOGS/lab-runner.log" >"$LOGS/lab-runner.failed"
}

tier_lab() {
    # Two guests at a time, in two lanes of about equal length. Each pytest
    # suite runs in one process in a guest of its own: the kernel-facing
    # suite, and the director pair's proofs under load in two halves
    # (changes: drain and ten reconfigurations; failover: a dead real
    # server, a dead director and its return). Then the Molecule scenarios;
    # and, when the bench tier is asked for too, the benchmark at the end of
    # lane one, which the bench tier then reports; when the matrix tier is,
    # its sanity and units at the end of lane two (and the docs site, when
    # the docs tier is), then the runner's own tests.
    # Measured on 2 cores (2026-11-30, a fresh clone): guest 9 min,
    # ha-changes 13, ha-failover 2.5 (its deployment included), the pyroute2
    # floor 1.5, the scenarios from 4.2 (tun, nat, fullnat) to 8.1 (ha) and
    # 8.3 (scale_out, its proofs included), the benchmark 5; the matrix, the
    # docs site and the runner 3.5 after lane two: lane one guest, ha-changes,
    # tun, nat, benchmark; lane two the rest.
    local lane_one=(tun nat) lane_two=(modes ha fullnat dr scale_out) passed=0 failed=0 not_run=0 skipped=0
    local p f n s section name scenario listed
    # A new scenario joins lane one, so that none is left out.
    for scenario in extensions/molecule/*/molecule.yml; do
        scenario=$(basename "$(dirname "$scenario")")
        listed=" ${lane_one[*]} ${lane_two[*]} "
        [[ "$listed" == *" $scenario "* ]] || lane_one+=("$scenario")
    done
    if [ "$LAB_OK" = yes ]; then
        : >"$LOGS/lab-molecule-1.log"
        : >"$LOGS/lab-molecule-2.log"
        {
            suite guest tests/lab/tests/guest
            suite ha-changes tests/lab/tests/ha/test_ha_changes.py 2400
            molecule_lane "$LOGS/lab-molecule-1.log" "${lane_one[@]}"
            # Its fleet figure comes from the scenario modes, in the other lane.
            asked bench && bench_run --no-fleet
        } &
        local lane_one_pid=$!
        suite ha-failover tests/lab/tests/ha/test_ha_failover.py 2400
        floor_suite
        molecule_lane "$LOGS/lab-molecule-2.log" "${lane_two[@]}"
        # Lane two ends minutes before lane one: the matrix tier's host work
        # fills that gap instead of adding to the command's time.
        asked matrix && matrix_run
        asked docs && docs_run
        # Its guests are the second beside lane one's last.
        runner_suite
        wait "$lane_one_pid"
        for name in guest ha-changes ha-failover pyroute2-floor; do
            # shellcheck disable=SC2046  # a suite's tests may be several paths
            read -r p f n s < <(count_suite "$name" $(suite_path "$name"))
            passed=$((passed + p)) failed=$((failed + f)) not_run=$((not_run + n)) skipped=$((skipped + s))
        done
        # The director pair's figures, as their tables printed them.
        for name in ha-changes ha-failover; do
            sed -n '/^What the director pair proved/,/ passed, [0-9]* failed$/p' "$LOGS/lab-$name.log" | sed 's/^/    /'
        done
        for scenario in "${lane_one[@]}" "${lane_two[@]}"; do
            section=$LOGS/lab-molecule-$scenario.log
            awk -v s="--- molecule test -s $scenario" '$0 ~ /^--- molecule test -s / {on = ($0 == s)} on' \
                "$LOGS"/lab-molecule-[12].log >"$section"
            # The scale_out scenario's verify is the active-active proofs: counted one by one, from its junit.
            [ "$scenario" = scale_out ] && scale_out_proofs
            if grep -qx "rc=0 $scenario" "$section"; then
                passed=$((passed + 1))
            elif [ -e "$RUNS/molecule-$scenario/not-run" ]; then
                not_run=$((not_run + 1))
                echo "    NOT RUN: molecule scenario $scenario: the lab did not run (log: $section)"
                cause "$section"
            else
                failed=$((failed + 1))
                echo "    FAILED: molecule scenario $scenario (log: $section)"
                cause "$section"
            fi
        done
    else
        for name in guest ha-changes ha-failover pyroute2-floor; do
            # shellcheck disable=SC2046
            n=$(collected $(suite_path "$name"))
            not_run=$((not_run + ${n:-1}))
        done
        not_run=$((not_run + ${#lane_one[@]} + ${#lane_two[@]}))
        echo "    NOT RUN: the guest tests, the failover proofs and ${#lane_one[@]}+${#lane_two[@]} molecule scenarios (the lab cannot run here)"
    fi
    # They run even where the doctor failed: each says how the lab fails.
    [ -e "$LOGS/lab-runner.xml" ] || runner_suite
    [ -s "$LOGS/lab-runner.failed" ] && sed 's/^/    | /' "$LOGS/lab-runner.failed"
    read -r p f s < <(junit "$LOGS/lab-runner.xml")
    echo "$((passed + p)) $((failed + f)) $not_run $((skipped + s))" >&3
}

# bench_run [ARG...]: the benchmark in a guest of its own; its exit status
# goes to $RUNS/bench.status for tier_bench.
bench_run() {
    lvslab run --run-dir "$RUNS/bench" --mem 2048M --timeout 2400 -- python3 tests/lab/bench/ipvs_table.py "$@" \
        >"$LOGS/bench.log" 2>&1
    echo $? >"$RUNS/bench.status"
}

tier_bench() {
    if [ "$LAB_OK" != yes ]; then
        echo "    NOT RUN: the benchmark (the lab cannot run here)"
        echo "0 0 1 0" >&3
        return
    fi
    # Run by the lab tier beside its other lane when both tiers are asked for
    # (each ratio compares figures taken in turn in that guest); asked for
    # alone, it has the machine to itself, as for the figures in docs/modules.md.
    if [ -e "$RUNS/bench.status" ]; then
        echo "    (run during the lab tier, beside its other lane)"
    else
        bench_run
    fi
    local fleet=0
    if [ -e "$RUNS/molecule-modes/fleet-clock.jsonl" ]; then
        python3 tests/lab/bench/ipvs_table.py --fleet-from "$RUNS/molecule-modes/fleet-clock.jsonl" \
            >"$LOGS/fleet.log" 2>&1 || fleet=1
    elif grep -q -- '--no-fleet' "$RUNS/bench/job.sh" 2>/dev/null; then
        echo "fleet: the Molecule scenario modes recorded no run (see its log)" >"$LOGS/fleet.log"
        fleet=1
    fi
    if [ "$(cat "$RUNS/bench.status")" = 0 ] && [ "$fleet" = 0 ]; then
        sed -n '/^IPVS table benchmark/,$p' "$LOGS/bench.log" | grep -v '^lvslab: ' | sed 's/^/    /'
        [ -e "$LOGS/fleet.log" ] && sed 's/^/    /' "$LOGS/fleet.log"
        echo "1 0 0 0" >&3
    elif [ -e "$RUNS/bench/not-run" ]; then
        echo "    NOT RUN: the benchmark: the lab did not run (log: $LOGS/bench.log)"
        cause "$LOGS/bench.log"
        echo "0 0 1 0" >&3
    elif [ "$fleet" = 1 ]; then
        echo "    FAILED: the benchmark's fleet figure (log: $LOGS/fleet.log)"
        sed 's/^/    | /' "$LOGS/fleet.log"
        echo "0 1 0 0" >&3
    else
        echo "    FAILED: the benchmark (log: $LOGS/bench.log)"
        cause "$LOGS/bench.log"
        echo "0 1 0 0" >&3
    fi
}

RUNS=$ROOT/.lab/runs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUNS"
for tier in "${TIERS[@]}"; do
    case $tier in
        lint) note="ruff, ruff format, ansible-lint, changelog, vermin, antsibull-docs, doc fragment, docs site RST, shellcheck" ;;
        sanity) note="ansible-test sanity tests" ;;
        units) note="ansible-test units" ;;
        unit) note="pytest tests/lab/tests/unit" ;;
        lab) note="guest pytest + molecule scenarios + runner" ;;
        matrix) note="ansible-test sanity and units on ansible-core $MATRIX_CORE" ;;
        bench) note="tests/lab/bench/ipvs_table.py" ;;
        docs) note="scripts/docsite.sh build: the docs site and its pages" ;;
        *) echo "unknown tier: $tier" >&2; exit 2 ;;
    esac
    case $tier in lab | bench) doctor ;; esac
    say "tier $tier ($note)"
    start=$SECONDS
    # A tier prints its progress on stdout and "passed failed not-run skipped" on fd 3.
    out=$("tier_$tier" 3>&1 1>&2)
    read -r passed failed not_run skipped <<<"$out"
    record "$tier" "${passed:-0}" "${failed:-1}" "${not_run:-0}" "${skipped:-0}" "$((SECONDS - start))" "$note"
done

echo
echo "tier    passed failed not run skipped   time  what"
printf '%s\n' "${SUMMARY[@]}"
echo "logs: $LOGS; lab runs: $RUNS"
if [ "$LAB_OK" = no ]; then
    echo "THE LAB DID NOT RUN on this machine: $TOTAL_NOT_RUN tests could not run (see $LOGS/doctor.log)"
fi
echo "total: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_NOT_RUN not run"
[ "$TOTAL_FAILED" -eq 0 ] && [ "$TOTAL_NOT_RUN" -eq 0 ] && [ "$TOTAL_PASSED" -gt 0 ]
