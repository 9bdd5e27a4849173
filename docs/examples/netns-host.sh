#!/bin/sh
# Gives the network namespace NAME (made with `ip netns add NAME`) files of
# its own, as the lab's hosts have: /etc, /usr/local and /var/lib become
# overlays whose changes stay under DIR/NAME/fs, and /run and /sys its own.
# Ansible then reaches it with lvs.ipvs.netns and
#   ansible_netns_mount_namespace: DIR/NAME/mnt
# so that what the roles write (their scripts, /etc/sysctl.d, /etc/lvs,
# systemd units) lands in that host alone, not on the controller's disk.
# DIR must be on a private mount: the kernel pins a mount namespace only
# there. This script makes DIR a tmpfs when it is not a mount point yet
# (the hosts' files then last until the machine restarts).
#   usage: netns-host.sh NAME [DIR]      DIR defaults to /run/lvs-hosts
set -eu
name=$1
dir=${2:-/run/lvs-hosts}
[ -e "/run/netns/$name" ] || { echo "no network namespace $name (ip netns add $name)" >&2; exit 2; }
mkdir -p "$dir"
if ! mountpoint -q "$dir"; then
    mount -t tmpfs -o mode=755 lvs-hosts "$dir"
fi
mount --make-private "$dir"
host=$dir/$name
[ -e "$host/mnt" ] && { echo "$host/mnt exists: $name has its files already" >&2; exit 2; }
mkdir -p "$host"
touch "$host/mnt"
# Some kernels refuse (EINVAL) to pin a namespace that looks older than the
# pinner's own, as one made on another CPU can: try again, on each CPU in turn.
tries=0
until taskset -c $((tries % $(nproc))) unshare --mount="$host/mnt" --propagation private true 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 20 ] || { echo "cannot pin a mount namespace at $host/mnt" >&2; exit 1; }
done
for d in etc usr/local var/lib; do
    mkdir -p "$host/fs/$d/up" "$host/fs/$d/work"
done
# shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
nsenter --net="/run/netns/$name" --mount="$host/mnt" -- sh -eu -c '
    host=$1
    mount -t sysfs sysfs /sys
    for d in etc usr/local var/lib; do
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$host/fs/$d/up,workdir=$host/fs/$d/work" "/$d"
    done
    mount -t tmpfs -o mode=755 tmpfs /run
    echo "$0" > /etc/hostname
' "$name" "$host"
echo "$name: ansible_netns_mount_namespace=$host/mnt"
