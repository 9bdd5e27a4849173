#!/usr/bin/env bash
# The README's first command: set up from nothing, then build the lab in a
# kernel with IPVS and prove that traffic flows through LVS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
start=$SECONDS
"$ROOT/scripts/setup.sh"
. "$ROOT/scripts/env.sh"

echo "==> starting a kernel with IPVS and running playbooks/lab.yml in it"
# The inventory appears only once the playbook has built the lab.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
run_dir=$ROOT/.lab/runs/demo-$(date +%Y%m%d-%H%M%S)
rc=0
lvslab run --run-dir "$run_dir" --timeout 900 -- \
    ansible-playbook -i /run/lvslab/inventory.yml playbooks/lab.yml || rc=$?
# The lab wrote files under /etc of its hosts; none may reach the real machine.
if [ -e /etc/sysctl.d/90-lvs-director.conf ] || [ -e /etc/sysctl.d/90-lvs-real-server.conf ] || [ -e /etc/lvs ] || [ -e /usr/local/sbin/lvs-director ]; then
    lvslab record --results "$run_dir/results.jsonl" --label "real machine's /etc untouched by the lab" --fail \
        --detail "found a file of the roles in the real /etc or /usr/local/sbin"
else
    lvslab record --results "$run_dir/results.jsonl" --label "real machine's /etc untouched by the lab" --ok \
        --detail "no file of the roles in the real /etc after the guest halted"
fi
echo
lvslab report "$run_dir/results.jsonl" --title "What the lab proved (run directory $run_dir)" || rc=${rc:-1}
[ "$rc" -eq 0 ] || rc=1
echo "==> demo finished in $((SECONDS - start)) s"
exit "$rc"
