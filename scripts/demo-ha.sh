#!/usr/bin/env bash
# The high-availability demo (docs/operations.md), a documented second
# command beside the main demo, which it would push past five minutes: set up
# from nothing, check that the lab can run here, then deploy a director pair
# with keepalived (tests/lab/topologies/ha.yml) and prove under load, with
# figures, that draining, reconfiguring, a dead real server and a dead
# director break nothing they must not (tests/lab/tests/ha). About 20
# minutes, in two guests side by side.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
start=$SECONDS
"$ROOT/scripts/setup.sh"
. "$ROOT/scripts/env.sh"

finish() {
    echo "==> $1 (demo finished in $((SECONDS - start)) s)"
    exit "$2"
}

echo "==> can the lab run on this machine? (lvslab doctor)"
if ! lvslab doctor; then
    echo
    echo "THE LAB DID NOT RUN: this machine cannot run the lab's kernel (lvslab doctor, above, says why)."
    finish "HA demo FAILED: the lab did not run" 1
fi

echo "==> starting two kernels with IPVS: drain and ten reconfigurations in one, failover in the other"
stamp=$(date +%Y%m%d-%H%M%S)
pids=()
for half in changes failover; do
    lvslab run --run-dir "$ROOT/.lab/runs/demo-ha-$half-$stamp" --timeout 2400 -- \
        python3 -m pytest -p no:cacheprovider -q -s "tests/lab/tests/ha/test_ha_$half.py" \
        >"$ROOT/.lab/runs/demo-ha-$half-$stamp.log" 2>&1 &
    pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for half in changes failover; do
    log=$ROOT/.lab/runs/demo-ha-$half-$stamp.log
    echo
    if [ -e "$ROOT/.lab/runs/demo-ha-$half-$stamp/not-run" ]; then
        echo "THE LAB DID NOT RUN: $(head -n 1 "$ROOT/.lab/runs/demo-ha-$half-$stamp/not-run")"
        finish "HA demo FAILED: the lab did not run" 1
    fi
    sed -n '/^What the director pair proved/,/ passed, [0-9]* failed$/p' "$log"
    grep -q '^What the director pair proved' "$log" || tail -n 30 "$log"
done
[ "$rc" -eq 0 ] || finish "HA demo FAILED: a check failed (tables above; logs in .lab/runs/demo-ha-*-$stamp.log)" 1
finish "HA demo PASSED" 0
