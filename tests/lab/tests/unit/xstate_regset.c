/*
 * Drives the XSAVE shim (tests/lab/lvslab/uml-xstate.c) the way UML does, on
 * the real host kernel, with a buffer shorter than the host's XSAVE area.
 *
 * A child puts pattern A in ymm0 and stops itself. The parent, as UML would,
 * reads the child's XSTATE into a LEN-byte buffer, writes pattern B into the
 * low half of xmm0 (inside those LEN bytes), and writes the buffer back. The
 * child then reports ymm0: its low half must be B (the write took effect)
 * and its high half still A (the state beyond LEN bytes, which the buffer
 * never held, survived). Everything the child does between loading and
 * reporting is in one asm block, so no compiled code touches ymm0.
 *
 * Prints one line: "get=RC set=RC errno=E low=new|old|other high=kept|lost"
 * Usage: xstate_regset LEN
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define XMM0_OFFSET 160 /* in the legacy FXSAVE area */

static void fill(unsigned char *buf, int len, int salt)
{
    for (int i = 0; i < len; i++)
        buf[i] = (unsigned char)(salt + i * 3);
}

int main(int argc, char **argv)
{
    size_t len = argc > 1 ? strtoul(argv[1], NULL, 10) : 576;
    unsigned char a[32], b[16], got[32];
    int pipefd[2], status, saved_errno = 0;
    long get_rc, set_rc = -1;
    pid_t child;

    fill(a, 32, 1);
    fill(b, 16, 101);
    if (pipe(pipefd))
        return 2;
    child = fork();
    if (child == 0) {
        long pid = getpid();
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        __asm__ volatile(
            "vmovdqu (%[in]), %%ymm0\n\t"
            "mov $62, %%eax\n\t" /* kill(pid, SIGSTOP) */
            "mov %[pid], %%rdi\n\t"
            "mov $19, %%esi\n\t"
            "syscall\n\t"
            "vmovdqu %%ymm0, (%[out])\n\t"
            :
            : [in] "r"(a), [out] "r"(got), [pid] "r"(pid)
            : "rax", "rcx", "r11", "rdi", "rsi", "memory", "xmm0");
        if (write(pipefd[1], got, 32) != 32)
            _exit(3);
        _exit(0);
    }
    waitpid(child, &status, 0);

    unsigned char *buf = calloc(1, len);
    struct iovec iov = {buf, len};
    get_rc = ptrace(PTRACE_GETREGSET, child, (void *)NT_X86_XSTATE, &iov);
    if (get_rc == 0) {
        memcpy(buf + XMM0_OFFSET, b, 16);
        iov.iov_len = len;
        set_rc = ptrace(PTRACE_SETREGSET, child, (void *)NT_X86_XSTATE, &iov);
        if (set_rc)
            saved_errno = errno;
    }
    ptrace(PTRACE_CONT, child, 0, 0);
    memset(got, 0, sizeof(got));
    if (read(pipefd[0], got, 32) != 32) {
        printf("get=%ld set=%ld errno=%d child=silent\n", get_rc, set_rc, saved_errno);
        return 1;
    }
    waitpid(child, &status, 0);
    printf("get=%ld set=%ld errno=%d low=%s high=%s\n", get_rc, set_rc, saved_errno,
           memcmp(got, b, 16) == 0 ? "new" : memcmp(got, a, 16) == 0 ? "old" : "other",
           memcmp(got + 16, a + 16, 16) == 0 ? "kept" : "lost");
    return 0;
}
