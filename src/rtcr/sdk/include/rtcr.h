/*
 * rtcr.h -- the component SDK of rtcr.
 *
 * Components are freestanding x86-64 programs.  They are entered at `main`
 * (via the SDK's crt0 `_start`) and talk to the machine with the `syscall`
 * instruction:
 *
 *   number in rax, arguments in rdi, rsi, rdx, r10, r8, r9, result in rax;
 *   a negative result is -RTCR_E*; rcx and r11 may be clobbered.
 *
 * The numbers below must agree with rtcr/abi.py (a test checks this).
 *
 * Threads: there is no thread-local storage (fs/gs base are unused).  The
 * SDK's only shared mutable state is the rtcr_printf partial-line buffer
 * (protected by a spin/yield lock) and the rtcr_rand state.
 */
#ifndef RTCR_H
#define RTCR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- system call numbers (rtcr.abi.Syscall) ---------------------------- */
#define RTCR_SYS_EXIT            0
#define RTCR_SYS_LOG             1
#define RTCR_SYS_RAM_ALLOC       2
#define RTCR_SYS_RAM_FREE        3
#define RTCR_SYS_RAM_SEAL        4
#define RTCR_SYS_RM_CREATE       5
#define RTCR_SYS_RM_DATASPACE    6
#define RTCR_SYS_ATTACH          7
#define RTCR_SYS_DETACH          8
#define RTCR_SYS_FAULT_HANDLER   9
#define RTCR_SYS_FAULT          10
#define RTCR_SYS_SIGNAL_CONTEXT 11
#define RTCR_SYS_SIGNAL_WAIT    12
#define RTCR_SYS_SIGNAL_SUBMIT  13
#define RTCR_SYS_THREAD_CREATE  14
#define RTCR_SYS_THREAD_EXIT    15
#define RTCR_SYS_THREAD_JOIN    16
#define RTCR_SYS_TIME_US        17
#define RTCR_SYS_SLEEP_US       18
#define RTCR_SYS_YIELD          19
#define RTCR_SYS_RAM_AVAIL      20
#define RTCR_SYS_CAPS_AVAIL     21
#define RTCR_SYS_THREAD_SELF    22
#define RTCR_SYS_THREAD_KILL    23
#define RTCR_SYS_DS_SIZE        24
#define RTCR_SYS_RM_DESTROY     25
#define RTCR_SYS_ROM_OPEN       26
#define RTCR_SYS_SIGNAL_RECEIVER 27
#define RTCR_SYS_SIGNAL_CONTEXT_AT 28
#define RTCR_SYS_SIGNAL_WAIT_AT 29
#define RTCR_SYS_PD_CREATE      30
#define RTCR_SYS_PD_SELF        31
#define RTCR_SYS_PD_REF_ACCOUNT 32
#define RTCR_SYS_PD_TRANSFER    33
#define RTCR_SYS_PD_RAM_ALLOC   34
#define RTCR_SYS_PD_RAM_FREE    35
#define RTCR_SYS_PD_RAM_SEAL    36
#define RTCR_SYS_PD_RAM_SIZE    37
#define RTCR_SYS_PD_QUOTA       38
#define RTCR_SYS_CAP_DELEGATE   39
#define RTCR_SYS_SIGNAL_FREE    40
#define RTCR_SYS_PD_ADDRESS_SPACE 41
#define RTCR_SYS_CHILD_START    42
#define RTCR_SYS_PD_STACK_AREA  43
#define RTCR_SYS_CHILD_EXIT_VALUE 44
#define RTCR_SYS_THREAD_CREATE_NAMED 45
#define RTCR_SYS_DS_WRITEABLE   46
#define RTCR_SYS_ANNOUNCE       47
#define RTCR_SYS_REQUEST        48

/* ---- error codes (rtcr.abi.Errno); system calls return -RTCR_E* ------- */
#define RTCR_EINVAL     1   /* malformed argument (misaligned, out of range) */
#define RTCR_ECAP       2   /* unknown / stale / wrong-kind capability */
#define RTCR_EFAULT     3   /* bad pointer */
#define RTCR_ENORAM     4   /* RAM quota exhausted */
#define RTCR_ENOCAPS    5   /* capability quota exhausted */
#define RTCR_ECONFLICT  6   /* region conflict */
#define RTCR_EDENIED    7   /* not permitted */
#define RTCR_EINVALDS   8   /* invalid or freed dataspace */
#define RTCR_ENOREGION  9   /* no region at that address */
#define RTCR_ENESTING  10   /* nesting too deep / cyclic */
#define RTCR_ENOSYS    11   /* unknown system call */
#define RTCR_ENOTHREAD 12   /* no such thread, or thread limit reached */
#define RTCR_EAGAIN    13   /* not there yet (a service not announced): ask again */

/* ---- fault types (rtcr.abi.FaultTypeCode) ------------------------------ */
#define RTCR_FAULT_NONE  0
#define RTCR_FAULT_READ  1
#define RTCR_FAULT_WRITE 2
#define RTCR_FAULT_EXEC  3

/* ---- attach flags and well-known selectors ----------------------------- */
#define RTCR_W 1                 /* writeable */
#define RTCR_X 2                 /* executable */
#define RTCR_ANYWHERE (-1L)      /* `at` value: let the region map choose */
#define RTCR_ADDRESS_SPACE 1     /* the caller's own region map */

#define RTCR_PAGE_SIZE 4096UL

/* ---- seal flags (rtcr.abi.SEAL_*) --------------------------------------- */
/* 0: Genode's seal -- later attaches are read-only, existing ones keep their
 * rights.  RTCR_SEAL_REVOKE: also downgrade every existing writable mapping. */
#define RTCR_SEAL_REVOKE 1

/* The guest ABI's version (rtcr.abi.ABI_VERSION), recorded in every checkpoint. */
#define RTCR_ABI_VERSION 1

/* ---- limits (rtcr.abi) -------------------------------------------------- */
#define RTCR_SLEEP_MAX_US ((1UL << 40) - 1)  /* longer sleeps fail with -RTCR_EINVAL */
#define RTCR_ROM_NAME_MAX 256                /* bytes of a ROM name */
#define RTCR_PD_LABEL_MAX 160                /* bytes of a PD session's label */
#define RTCR_STACK_AREA_BASE 0x40000000UL    /* a PD session's stack area ... */
#define RTCR_STACK_AREA_SIZE 0x10000000UL    /* ... and its size */

/* ---- PD sessions (rtcr.abi.QUOTA_*, rtcr.abi.PdQuota, PD_SESSION_*) ----- */
#define RTCR_QUOTA_RAM  0        /* rtcr_pd_transfer: bytes of RAM quota */
#define RTCR_QUOTA_CAPS 1        /* rtcr_pd_transfer: capabilities */
#define RTCR_PD_RAM_LIMIT  0     /* rtcr_pd_quota: what it reports */
#define RTCR_PD_RAM_USED   1
#define RTCR_PD_CAPS_LIMIT 2
#define RTCR_PD_CAPS_USED  3
#define RTCR_PD_SESSION_RAM  196608  /* session quota a new PD takes from its creator */
#define RTCR_PD_SESSION_CAPS 13      /* (plus one cap for the creator's selector) */

struct rtcr_fault {
	long type;            /* RTCR_FAULT_* */
	unsigned long addr;   /* in the coordinates of the faulting region map */
};

/* ---- raw system calls -------------------------------------------------- */
static inline long rtcr_syscall6(long n, long a1, long a2, long a3, long a4,
                                 long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

static inline long rtcr_syscall0(long n)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
	return ret;
}

static inline long rtcr_syscall1(long n, long a1)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1) : "rcx", "r11", "memory");
	return ret;
}

static inline long rtcr_syscall2(long n, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2)
	                 : "rcx", "r11", "memory");
	return ret;
}

static inline long rtcr_syscall3(long n, long a1, long a2, long a3)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2), "d"(a3)
	                 : "rcx", "r11", "memory");
	return ret;
}

static inline long rtcr_syscall4(long n, long a1, long a2, long a3, long a4)
{
	return rtcr_syscall6(n, a1, a2, a3, a4, 0, 0);
}

static inline long rtcr_syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
	return rtcr_syscall6(n, a1, a2, a3, a4, a5, 0);
}

/* ---- the component API ------------------------------------------------- */

/* End the whole component (all threads) with `code`.  Flushes a partial
 * rtcr_printf line first. */
void  rtcr_exit(int code) __attribute__((noreturn));
/* Emit one LOG line (the text up to the terminating NUL; no newline). */
void  rtcr_log(const char *line);
/* Emit one LOG line of `len` bytes. */
long  rtcr_log_n(const char *text, unsigned long len);

long  rtcr_ram_alloc(unsigned long size);          /* -> dataspace cap */
long  rtcr_ram_free(long ds);
long  rtcr_ram_seal(long ds);                      /* Genode's seal (flags 0) */
long  rtcr_ram_seal_flags(long ds, unsigned flags); /* 0 or RTCR_SEAL_REVOKE */
long  rtcr_ds_size(long ds);                       /* bytes of any dataspace */
/* 1 if the dataspace can be attached writable (RAM, a region map's), 0 if not
 * (ROM, RAM sealed with RTCR_SEAL_REVOKE). Genode's Dataspace::writeable(). */
long  rtcr_ds_writeable(long ds);
long  rtcr_rm_destroy(long rm);                    /* detach all, invalidate, free */
/* The ROM named `name` (rtcr run --rom NAME=FILE; "config" is --config) as a
 * read-only dataspace (the same one on every open), or -RTCR_EDENIED if the
 * component has no ROM of that name (Genode: the session is denied). */
long  rtcr_rom_open(const char *name);
long  rtcr_rm_create(unsigned long size);          /* -> region map cap */
long  rtcr_rm_dataspace(long rm);                  /* managed dataspace cap */
long  rtcr_attach(long rm, long ds, unsigned long size, unsigned long offset,
                  long at /* -1: anywhere */, unsigned flags /* RTCR_W|RTCR_X */);
long  rtcr_detach(long rm, unsigned long at);
long  rtcr_fault_handler(long rm, long sigctx);    /* sigctx -1: clear */
long  rtcr_fault(long rm, struct rtcr_fault *f);   /* type + addr, returns 0 */
long  rtcr_signal_context(void);
long  rtcr_signal_wait(void);                      /* -> context that fired */
long  rtcr_signal_submit(long ctx);
/* Signal receivers of their own (one per Genode entrypoint): a context made
 * at a receiver is delivered only to threads waiting at that receiver. */
long  rtcr_signal_receiver(void);                  /* -> receiver cap */
long  rtcr_signal_context_at(long receiver);       /* -> ctx cap */
long  rtcr_signal_wait_at(long receiver);          /* -> context that fired */

/* Start a thread running entry(arg) on a fresh stack of `stack_size` bytes
 * (0: the machine's default).  When entry returns, the thread exits.
 * Returns the thread id (>= 0) or -RTCR_E*. */
long  rtcr_thread_create(void (*entry)(void *), void *arg, unsigned long stack_size);
/* The same, naming the thread (fault reports and `rtcr show` use the name;
 * UTF-8, at most RTCR_PD_LABEL_MAX bytes; NULL or "": thread<N>). */
long  rtcr_thread_create_named(void (*entry)(void *), void *arg, unsigned long stack_size,
                               const char *name);
long  rtcr_thread_join(long tid);                  /* wait until it exited */
void  rtcr_thread_exit(void) __attribute__((noreturn));
long  rtcr_thread_self(void);                      /* the caller's thread id */
/* End thread `tid` of this component wherever it is (blocked or not); joiners
 * wake.  The caller itself cannot be killed (use rtcr_thread_exit). */
long  rtcr_thread_kill(long tid);

/* Per-thread words without TLS: RTCR_THREAD_WORDS pointers, zero for a new
 * thread, found by thread id.  Words below RTCR_THREAD_WORD_USER belong to
 * the SDK (C++ exception state, the Genode Thread object). */
#define RTCR_THREAD_WORDS 8
#define RTCR_THREAD_WORD_EH 0        /* two words: libsupc++'s exception globals */
#define RTCR_THREAD_WORD_GENODE 2    /* Genode::Thread::myself() */
#define RTCR_THREAD_WORD_USER 4
void **rtcr_thread_words(void);

unsigned long rtcr_time_us(void);                  /* virtual time */
/* Sleep `us` virtual microseconds (at most RTCR_SLEEP_MAX_US); returns 0,
 * or -RTCR_EINVAL without sleeping when `us` is longer. */
long  rtcr_sleep_us(unsigned long us);
void  rtcr_yield(void);
long  rtcr_ram_avail(void);                        /* bytes of RAM quota left */
long  rtcr_caps_avail(void);                       /* capabilities left */

/* PD sessions (Genode's Pd_connection).  A new PD is paid with session quota
 * of the caller's PD, which it may spend but not hand on; it exchanges quota
 * only with its reference account, set once.  RAM allocated on a PD is
 * charged to it and only it may free or seal it (-RTCR_EDENIED otherwise,
 * nothing changes); the dataspace capability lands in the caller's space. */
long  rtcr_pd_create(const char *label);           /* -> pd cap ("" : no label) */
long  rtcr_pd_self(void);                          /* -> cap of the caller's own PD */
long  rtcr_pd_ref_account(long pd, long ref);
long  rtcr_pd_transfer(long from, long to, unsigned long amount, unsigned kind);
long  rtcr_pd_ram_alloc(long pd, unsigned long size); /* -> dataspace cap */
long  rtcr_pd_ram_free(long pd, long ds);
long  rtcr_pd_ram_seal(long pd, long ds, unsigned flags); /* 0 or RTCR_SEAL_REVOKE */
long  rtcr_pd_ram_size(long pd, long ds);          /* -RTCR_EDENIED: not its own */
long  rtcr_pd_quota(long pd, unsigned which);      /* RTCR_PD_RAM_LIMIT, ... */
/* Hand a dataspace or signal context to a PD (as an RPC argument would): it
 * gets a selector of its own there (the same one if it has it already),
 * charged to that PD.  Freeing or revoking at the owner reaches it there. */
long  rtcr_cap_delegate(long pd, long cap);        /* -> the selector in `pd` */
/* Dissolve a signal context the caller owns (it holds its receiver, or it is
 * at the PD's own): pending submissions are dropped, later ones do nothing,
 * and every holder's selector of it is revoked (Genode's free_context). */
long  rtcr_signal_free(long ctx);
/* The address space of a PD session (RTCR_ADDRESS_SPACE for the caller's
 * own PD): attach into it, install a fault handler on it. */
long  rtcr_pd_address_space(long pd);              /* -> region map cap */
/* The stack area of a PD session: a region map at RTCR_STACK_AREA_BASE of
 * its address space holding every stack of a child running there, so that
 * a fault on a stack goes to its handler (-RTCR_EDENIED for the caller's
 * own PD, which has none). */
long  rtcr_pd_stack_area(long pd);                 /* -> region map cap */
/* Start a child named `name` from the ELF in ROM `binary`, in PD session `pd`
 * (its quota is what was transferred to it).  It is served by the caller's
 * parent, may open the caller's ROMs, and ends when the caller ends.  When
 * it exits, signal context `exit_ctx` is submitted (-1: none), and
 * rtcr_child_exit_value(pd) tells the value (-RTCR_ENOTHREAD before). */
long  rtcr_child_start(long pd, long binary, const char *name, long exit_ctx);
long  rtcr_child_exit_value(long pd);

/* Services of a scenario (`rtcr run scenario.config`; the runtime is their
 * init).  A component announces a dataspace or signal context as service
 * `name` (its start node must <provide> it); another requests `name` and gets
 * its own selector of what the provider its <route> names announced
 * (-RTCR_EDENIED: no route; -RTCR_EAGAIN: not announced yet, ask again). */
long  rtcr_announce(const char *name, long cap);
long  rtcr_request(const char *name);

/* ---- formatted output -------------------------------------------------- */
/*
 * rtcr_printf formats (%d %i %u %x %X %o %ld %lu %lx %lld %llu %llx %zu %s
 * %c %p %%, %f %e %g (and %F %E %G, %Lf), with '-', '0', '+', ' ', '#'
 * flags, width, precision and '*') and emits one LOG line per completed
 * line, i.e. per '\n'.  Floating point is exact to 17 significant digits
 * (see printf.c); an unknown conversion such as %q prints as "%!q".
 * A trailing partial line (no '\n' yet) is kept in a buffer shared by all
 * threads and prefixed to the next output; rtcr_flush() (and rtcr_exit, and
 * returning from main) emits it as a line of its own.  Lines longer than
 * RTCR_LINE_MAX bytes are split.  Returns the number of formatted chars.
 */
#define RTCR_LINE_MAX 512
int   rtcr_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int   rtcr_vprintf(const char *fmt, va_list ap);
void  rtcr_flush(void);
int   snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int   vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int   sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int   vsprintf(char *buf, const char *fmt, va_list ap);

/* ---- tiny libc --------------------------------------------------------- */
void  *memcpy(void *dst, const void *src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strcpy(char *dst, const char *src);
char  *strncpy(char *dst, const char *src, size_t n);
char  *strchr(const char *s, int c);
char  *strcat(char *dst, const char *src);

/* ---- inputs: rtcr run X.elf --env K=V --stdin FILE -- ARGS... ----------- */
/* ROM modules holding them (rtcr.abi); crt0 calls main(argc, argv, envp) with
 * argv[0] the component's name, or argc 0 when it was started without inputs.
 * A restored component sees the inputs it was started with. */
#define RTCR_ARGS_ROM  "args"
#define RTCR_STDIN_ROM "stdin"
extern char **environ;
char  *getenv(const char *name);                  /* NULL: not set */
/* Up to n bytes of --stdin from where the last read ended; 0 at its end. */
long   rtcr_stdin_read(void *buf, unsigned long n);

/* ---- heap, program end ------------------------------------------------- */
void  *malloc(size_t n);
void   free(void *p);
void  *calloc(size_t count, size_t size);
void  *realloc(void *p, size_t n);
void  *aligned_alloc(size_t align, size_t n);
int    posix_memalign(void **out, size_t align, size_t n);
#define RTCR_ATEXIT_MAX 512
int    atexit(void (*fn)(void));
/* Run the atexit handlers and static destructors, then rtcr_exit(code). */
void   exit(int code) __attribute__((noreturn));
/* One LOG line "abort() called", then exit status RTCR_ABORT_EXIT_CODE. */
#define RTCR_ABORT_EXIT_CODE 134
void   abort(void) __attribute__((noreturn));

/* ---- deterministic PRNG (xorshift64), shared state --------------------- */
void          rtcr_rand_seed(uint64_t seed);       /* seed 0 is replaced by a constant */
uint64_t      rtcr_rand(void);
/* A stateless step, for components that keep several streams. */
static inline uint64_t rtcr_xorshift64(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#ifdef __cplusplus
}
#endif

#endif /* RTCR_H */
