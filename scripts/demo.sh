#!/usr/bin/env bash
# The README's first command: set up from nothing, check that the lab can run
# here, then build the lab in a kernel with IPVS and prove that traffic flows
# through LVS. Its last line says plainly whether the demo passed, failed, or
# never ran.
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
# The real machine's /etc must hold nothing of the roles, whether or not the
# lab ran: the lab writes only into its guest's overlay.
etc_untouched() {
    ! [ -e /etc/sysctl.d/90-lvs-director.conf ] && ! [ -e /etc/sysctl.d/90-lvs-real-server.conf ] &&
        ! [ -e /etc/lvs ] && ! [ -e /usr/local/sbin/lvs-director ]
}

echo "==> can the lab run on this machine? (lvslab doctor)"
if ! lvslab doctor; then
    echo
    echo "THE LAB DID NOT RUN: this machine cannot run the lab's kernel (lvslab doctor, above, says why)."
    echo "Nothing was deployed and no traffic was sent: nothing was proven."
    finish "demo FAILED: the lab did not run" 1
fi

echo "==> starting a kernel with IPVS and running tests/lab/playbooks/lab.yml in it"
# The inventory appears only once the playbook has built the lab.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
run_dir=$ROOT/.lab/runs/demo-$(date +%Y%m%d-%H%M%S)
rc=0
lvslab run --run-dir "$run_dir" --timeout 900 -- \
    ansible-playbook -i /run/lvslab/inventory.yml tests/lab/playbooks/lab.yml || rc=$?

if [ -e "$run_dir/not-run" ]; then
    echo
    echo "THE LAB DID NOT RUN: $(head -n 1 "$run_dir/not-run")"
    sed -n '2,$p' "$run_dir/not-run" | sed 's/^/    /'
    echo "Nothing was deployed and no traffic was sent: nothing was proven."
    etc_untouched || echo "and a file of the roles is in the real /etc or /usr/local/sbin: the lab leaked"
    finish "demo FAILED: the lab did not run" 1
fi

if etc_untouched; then
    lvslab record --results "$run_dir/results.jsonl" --label "real machine's /etc untouched by the lab" --ok \
        --detail "no file of the roles in the real /etc after the guest halted"
else
    lvslab record --results "$run_dir/results.jsonl" --label "real machine's /etc untouched by the lab" --fail \
        --detail "found a file of the roles in the real /etc or /usr/local/sbin"
fi
echo
report_rc=0
lvslab report "$run_dir/results.jsonl" --title "What the lab proved (run directory $run_dir)" || report_rc=$?
checks=$(grep -c . "$run_dir/results.jsonl")
if [ "$rc" -ne 0 ]; then
    finish "demo FAILED: the lab playbook stopped with exit status $rc; the table holds only the $checks checks that ran" 1
fi
[ "$report_rc" -eq 0 ] || finish "demo FAILED: a check failed (table above)" 1
finish "demo PASSED: $checks checks proved in the lab" 0
