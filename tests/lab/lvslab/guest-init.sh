#!/bin/sh
# Entry point of a lab kernel run. Under User-Mode Linux this is PID 1 of the
# guest; on a host whose kernel has IPVS it runs inside `unshare --mount --net
# --pid`. Either way the job's root is an overlay of the real root whose upper
# layer is a tmpfs, so nothing it writes reaches the real machine except
# through the run directory, which is bind-mounted through.
#
# Usage: guest-init.sh MODE RUN_DIR    (MODE is uml or host)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
MODE=$1
RUN_DIR=$2
ROOT=/run/lvslab-root

# halt -d: no wtmp record. Before pivot_root the root is the real machine's
# (hostfs), and a plain `halt -f` appends to its /var/log/wtmp.
fail() {
    echo "lvslab guest: $*" >&2
    echo 125 > "$RUN_DIR/rc"
    [ "$MODE" = uml ] && halt -f -d
    exit 125
}

if [ "$MODE" = uml ]; then
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    # The UML package ships its modules outside /lib/modules, and the real
    # machine may have no /lib/modules to mount over.
    MODDIR=/usr/lib/uml/modules
    grep -qw overlay /proc/filesystems || insmod "$MODDIR/$(uname -r)/kernel/fs/overlayfs/overlay.ko" \
        || fail "cannot load overlayfs"
else
    MODDIR=
fi

# /run is a fresh tmpfs in both modes: the overlay's upper layer lives there.
mount -t tmpfs -o mode=755 tmpfs /run || fail "cannot mount tmpfs on /run"
mkdir -p /run/lvslab-up /run/lvslab-work "$ROOT"
mount -t overlay overlay -o lowerdir=/,upperdir=/run/lvslab-up,workdir=/run/lvslab-work "$ROOT" \
    || fail "cannot mount the overlay root"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount -t devtmpfs devtmpfs "$ROOT/dev" 2>/dev/null || mount --rbind /dev "$ROOT/dev"
mkdir -p "$ROOT/dev/pts" "$ROOT/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts" 2>/dev/null
mount -t tmpfs tmpfs "$ROOT/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$ROOT/run"
if [ -n "$MODDIR" ]; then
    mkdir -p "$ROOT/lib/modules"
    mount --bind "$MODDIR" "$ROOT/lib/modules"
fi
# The only path written through to the real machine.
mount --bind "$RUN_DIR" "$ROOT$RUN_DIR" || fail "cannot bind the run directory"

[ "$MODE" = uml ] && hostname lvslab
# pivot_root, not chroot: a mount namespace made later inside (each lab host
# has one) would otherwise have the real root as its root. Detaching the old
# root leaves the run directory as the only way out to the real machine.
mount --make-rprivate /
cd "$ROOT" || fail "cannot enter the overlay root"
mkdir -p .lvslab-oldroot
pivot_root . .lvslab-oldroot || fail "pivot_root failed"
cd /
umount -l /.lvslab-oldroot
rmdir /.lvslab-oldroot
ip link set lo up
# Kernel messages would interleave with the job output on the console.
[ "$MODE" = uml ] && dmesg -n 1
echo "@@lvslab-begin@@"
/bin/sh "$RUN_DIR/job.sh" </dev/null
echo $? > "$RUN_DIR/rc"
echo "@@lvslab-end@@"

sync
if [ "$MODE" = uml ]; then
    halt -f -d
fi
exit 0
