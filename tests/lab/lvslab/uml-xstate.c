/*
 * uml-xstate.so: an LD_PRELOAD shim for linux.uml that lets a User-Mode
 * Linux kernel with a fixed-size FPU buffer run on a host whose XSAVE area is
 * larger than that buffer.
 *
 * Why it exists. UML saves and restores the FPU state of a guest task with
 * PTRACE_GETREGSET / PTRACE_SETREGSET (NT_X86_XSTATE) through a buffer whose
 * size was fixed when UML was built (2696 bytes in Debian 12's 6.1um4). A
 * current host kernel accepts an XSTATE SETREGSET only with the task's full
 * XSAVE size and answers a shorter one with EFAULT. On a host with a bigger
 * XSAVE area (an Intel Xeon with AMX: about 11 KB) every guest then panics at
 * its first user process: "ptrace set fp regs failed, errno = 14", then
 * "Attempted to kill init!". Upstream UML later sized the buffer from the
 * host; Debian 12's and 13's packages predate that.
 *
 * What it does. For each of UML's buffers it keeps a full-size image of the
 * XSAVE state. GETREGSET reads the full image and hands UML its first bytes;
 * SETREGSET lays UML's bytes over the kept image and sends the full size, so
 * state UML cannot see (AVX-512, AMX) survives a task switch unchanged. Every
 * other request, and every XSTATE request whose buffer is already as large
 * as the host's area, passes through untouched: on a host that needs no
 * help the shim changes nothing.
 *
 * When it can go: once the lab's guest kernel sizes its FPU buffer from the
 * host (upstream UML does; Debian unstable's 7.x package boots on such hosts
 * without help), or the lab stops using UML.
 *
 * Two settings exist for the lab's own tests, so that the path that matters
 * on large-XSAVE hosts can be proven on any host:
 *   LVSLAB_XSTATE_EMULATE=N  act as if UML's buffer held only N bytes
 *   LVSLAB_XSTATE_FIX=0      send short buffers to the host as they are
 *                            (reproduces the panic where the host refuses)
 * and LVSLAB_XSTATE_REPORT=FILE has it write, at UML's first XSTATE request,
 * one line: "host=BYTES uml=BYTES action=pass|widen|short".
 *
 * UML calls ptrace from one host thread, but possibly from a signal handler
 * interrupting another ptrace call, so the image table never calls malloc
 * and publishes a new entry with a single store.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PROBE_SIZE (64 * 1024) /* larger than any XSAVE area: the host trims it to its own size */
#define BUCKETS 1024

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

struct image {
    const void *owner; /* UML's buffer this image belongs to */
    struct image *next;
    unsigned char data[];
};

static ptrace_fn real_ptrace;
static size_t host_size;  /* the host's full XSTATE regset size; 0 until known */
static int probes_left = 16; /* a task that is not stopped cannot be asked */
static size_t emulate;    /* LVSLAB_XSTATE_EMULATE */
static int fix = 1;       /* LVSLAB_XSTATE_FIX */
static const char *report; /* LVSLAB_XSTATE_REPORT */
static struct image *table[BUCKETS];

__attribute__((constructor)) static void init(void)
{
    const char *v;

    real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    v = getenv("LVSLAB_XSTATE_EMULATE");
    if (v && *v)
        emulate = strtoul(v, NULL, 10);
    v = getenv("LVSLAB_XSTATE_FIX");
    if (v && strcmp(v, "0") == 0)
        fix = 0;
    report = getenv("LVSLAB_XSTATE_REPORT");
}

static void say(size_t uml_len)
{
    char line[96];
    int fd, n;

    if (!report || !*report)
        return;
    n = snprintf(line, sizeof(line), "host=%zu uml=%zu action=%s\n", host_size, uml_len,
                 uml_len >= host_size ? "pass" : fix ? "widen" : "short");
    fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, n) != n)
        unlink(report);
    close(fd);
    report = NULL;
}

static void *raw_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* The host's size, asked of the (stopped) task UML is working on. */
static void probe(pid_t pid)
{
    unsigned char *buf;
    struct iovec iov;

    probes_left--;
    buf = raw_alloc(PROBE_SIZE);
    if (!buf)
        return;
    iov.iov_base = buf;
    iov.iov_len = PROBE_SIZE;
    if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) == 0)
        host_size = iov.iov_len;
    munmap(buf, PROBE_SIZE);
}

static struct image **bucket(const void *owner)
{
    return &table[((uintptr_t)owner >> 4) % BUCKETS];
}

static struct image *find(const void *owner)
{
    struct image *im;

    for (im = *bucket(owner); im; im = im->next)
        if (im->owner == owner)
            return im;
    return NULL;
}

static struct image *add(const void *owner)
{
    struct image **head = bucket(owner);
    struct image *im = raw_alloc(sizeof(*im) + host_size);

    if (!im)
        return NULL;
    im->owner = owner;
    im->next = *head;
    __atomic_store_n(head, im, __ATOMIC_RELEASE);
    return im;
}

static long xstate(enum __ptrace_request req, pid_t pid, void *addr, struct iovec *iov)
{
    size_t uml_len = iov->iov_len;
    struct image *im;
    struct iovec full;
    long rc;

    if (emulate && emulate < uml_len)
        uml_len = emulate;
    if (!host_size && probes_left > 0)
        probe(pid);
    if (host_size)
        say(uml_len);
    if (!host_size || uml_len >= host_size)
        return real_ptrace(req, pid, addr, iov);
    if (!fix) {
        struct iovec shorter = {iov->iov_base, uml_len};

        rc = real_ptrace(req, pid, addr, &shorter);
        iov->iov_len = shorter.iov_len;
        return rc;
    }

    im = find(iov->iov_base);
    full.iov_len = host_size;
    if (req == PTRACE_GETREGSET) {
        if (!im && !(im = add(iov->iov_base)))
            return errno = ENOMEM, -1;
        full.iov_base = im->data;
        rc = real_ptrace(req, pid, addr, &full);
        if (rc == 0) {
            memcpy(iov->iov_base, im->data, uml_len);
            iov->iov_len = uml_len;
        }
        return rc;
    }
    /* A buffer UML never read back (a new task's copy of another): the
     * part UML cannot see comes from the task's current state. */
    if (!im) {
        if (!(im = add(iov->iov_base)))
            return errno = ENOMEM, -1;
        full.iov_base = im->data;
        rc = real_ptrace(PTRACE_GETREGSET, pid, addr, &full);
        if (rc != 0) {
            im->owner = NULL;
            return rc;
        }
    }
    memcpy(im->data, iov->iov_base, uml_len);
    full.iov_base = im->data;
    full.iov_len = host_size;
    return real_ptrace(req, pid, addr, &full);
}

long ptrace(enum __ptrace_request req, ...)
{
    va_list ap;
    pid_t pid;
    void *addr, *data;

    va_start(ap, req);
    pid = va_arg(ap, pid_t);
    addr = va_arg(ap, void *);
    data = va_arg(ap, void *);
    va_end(ap);

    if ((req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) && (uintptr_t)addr == NT_X86_XSTATE && data)
        return xstate(req, pid, addr, data);
    return real_ptrace(req, pid, addr, data);
}
