/*
 * Proves that a guest task's vector registers survive task switches, the
 * state the lab's XSAVE shim (tests/lab/lvslab/uml-xstate.c) keeps for UML.
 *
 * THREADS threads of one process (under UML they share one host process, so
 * only UML's per-task buffers keep their registers apart) each put a pattern
 * of their own into ymm15 (and zmm31 where the CPU has AVX-512), make ROUNDS
 * system calls with busy loops between them, so that UML saves and restores
 * their state many times, and check the registers still hold the pattern.
 * Everything between load and check is in one asm block, so no compiled code
 * can touch the registers. Prints "ok ..." and exits 0, or names the thread
 * and the register that changed and exits 1.
 *
 * Usage: xstate_threads [THREADS [ROUNDS]]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rounds = 300;
static int have_avx512;

struct job {
    int id;
    int bad_ymm, bad_zmm;
};

static void fill(unsigned char *buf, int len, int id, int salt)
{
    for (int i = 0; i < len; i++)
        buf[i] = (unsigned char)(id * 37 + salt * 11 + i * 7 + 1);
}

static void hold_ymm15(const unsigned char *in, unsigned char *out, long n)
{
    __asm__ volatile(
        "vmovdqu (%[in]), %%ymm15\n\t"
        "mov %[n], %%r8\n"
        "1:\n\t"
        "mov $24, %%eax\n\t" /* sched_yield */
        "syscall\n\t"
        "mov $20000, %%r9\n"
        "2:\n\t"
        "dec %%r9\n\t"
        "jnz 2b\n\t"
        "dec %%r8\n\t"
        "jnz 1b\n\t"
        "vmovdqu %%ymm15, (%[out])\n\t"
        :
        : [in] "r"(in), [out] "r"(out), [n] "r"(n)
        : "rax", "rcx", "r11", "r8", "r9", "memory", "xmm15");
}

static void hold_zmm31(const unsigned char *in, unsigned char *out, long n)
{
    __asm__ volatile(
        "vmovdqu64 (%[in]), %%zmm31\n\t"
        "mov %[n], %%r8\n"
        "1:\n\t"
        "mov $24, %%eax\n\t"
        "syscall\n\t"
        "mov $20000, %%r9\n"
        "2:\n\t"
        "dec %%r9\n\t"
        "jnz 2b\n\t"
        "dec %%r8\n\t"
        "jnz 1b\n\t"
        "vmovdqu64 %%zmm31, (%[out])\n\t"
        :
        : [in] "r"(in), [out] "r"(out), [n] "r"(n)
        : "rax", "rcx", "r11", "r8", "r9", "memory");
}

static void *work(void *arg)
{
    struct job *job = arg;
    unsigned char in[64], out[64];

    for (int r = 0; r < 10; r++) {
        fill(in, 32, job->id, r);
        memset(out, 0, sizeof(out));
        hold_ymm15(in, out, rounds / 10);
        if (memcmp(in, out, 32) != 0)
            job->bad_ymm++;
        if (have_avx512) {
            fill(in, 64, job->id, r + 100);
            memset(out, 0, sizeof(out));
            hold_zmm31(in, out, rounds / 10);
            if (memcmp(in, out, 64) != 0)
                job->bad_zmm++;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t tid[64];
    struct job jobs[64];
    int bad = 0;

    if (argc > 2)
        rounds = atoi(argv[2]);
    if (threads < 1 || threads > 64 || rounds < 10) {
        fprintf(stderr, "usage: xstate_threads [THREADS(1-64) [ROUNDS(>=10)]]\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx")) {
        fprintf(stderr, "this CPU has no AVX: nothing beyond the legacy area to check\n");
        return 2;
    }
    have_avx512 = __builtin_cpu_supports("avx512f");
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.id = i + 1};
        pthread_create(&tid[i], NULL, work, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        if (jobs[i].bad_ymm || jobs[i].bad_zmm) {
            printf("thread %d: ymm15 changed %d times, zmm31 changed %d times\n", jobs[i].id, jobs[i].bad_ymm,
                   jobs[i].bad_zmm);
            bad = 1;
        }
    }
    if (!bad)
        printf("ok %d threads x %d rounds, registers: ymm15%s\n", threads, rounds, have_avx512 ? " zmm31" : "");
    return bad;
}
