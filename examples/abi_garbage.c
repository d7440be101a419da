/*
 * abi_garbage -- every system call with adversarial arguments.
 *
 * Demonstrates that the guest ABI is robust: unknown, stale and wrong-kind
 * capabilities (0, -5, 9999, a dataspace where a region map is expected,
 * ...), huge sizes, NULL / wild / read-only pointers, misaligned offsets,
 * detaching a never-attached address, freeing twice, unknown system call
 * numbers (64..72) -- each returns an error code instead of crashing the
 * machine.  EXIT, THREAD_EXIT and SIGNAL_WAIT are never called with garbage
 * (they would end or block the caller); SLEEP_US only with 0 and 1.
 *
 * Output: one line per call, "NAME(args) = result", where the result is
 * printed as the error name (e.g. -ECAP) for negative values and as "ok"
 * (or "cap"/"addr"/"tid") for successes whose exact value is up to the
 * machine.  The exact codes are the machine's decision within the ABI
 * (e.g. a freed dataspace may be -ECAP or -EINVALDS), so there is no
 * expected/abi_garbage.txt; what must hold: every line ends with an error
 * name or ok/cap/addr/tid, syscalls 64..72 give -ENOSYS, and the last two
 * lines are
 *   [abi_garbage] survived
 * with exit status 0.  One deliberately wild thread (entry point 0x1)
 * faults and stays blocked; the machine may report that fault on stderr.
 */
#include <rtcr.h>

static const char *const errnames[] = {
	"0", "-EINVAL", "-ECAP", "-EFAULT", "-ENORAM", "-ENOCAPS", "-ECONFLICT",
	"-EDENIED", "-EINVALDS", "-ENOREGION", "-ENESTING", "-ENOSYS", "-ENOTHREAD",
};

static unsigned long calls;

/* Log a call's outcome: `what` describes the call; `ok` names a success. */
static void report(const char *what, long r, const char *ok)
{
	calls++;
	if (r < 0 && -r < (long)(sizeof(errnames) / sizeof(errnames[0])))
		rtcr_printf("%s = %s\n", what, errnames[-r]);
	else if (r < 0)
		rtcr_printf("%s = %ld (unknown error)\n", what, r);
	else if (ok)
		rtcr_printf("%s = %s\n", what, ok);
	else
		rtcr_printf("%s = %ld\n", what, r);
}

#define WILD 0xdeadbeef000L
#define KERNEL_PTR ((long)0xffff800000001000UL)
#define HUGE ((long)(1UL << 62))

static const char rodata_buf[64] = "read-only";

static void noop(void *arg)
{
	(void)arg;
}

int main(void)
{
	long r;

	/* LOG */
	report("LOG(NULL, 10)", rtcr_syscall2(RTCR_SYS_LOG, 0, 10), "ok");
	report("LOG(wild, 10)", rtcr_syscall2(RTCR_SYS_LOG, WILD, 10), "ok");
	report("LOG(kernel ptr, 10)", rtcr_syscall2(RTCR_SYS_LOG, KERNEL_PTR, 10), "ok");
	report("LOG(str, huge)", rtcr_syscall2(RTCR_SYS_LOG, (long)"x", HUGE), "ok");
	report("LOG(str, -1)", rtcr_syscall2(RTCR_SYS_LOG, (long)"x", -1), "ok");

	/* RAM_ALLOC */
	report("RAM_ALLOC(0)", rtcr_syscall1(RTCR_SYS_RAM_ALLOC, 0), "cap");
	report("RAM_ALLOC(huge)", rtcr_syscall1(RTCR_SYS_RAM_ALLOC, HUGE), "cap");
	report("RAM_ALLOC(-1)", rtcr_syscall1(RTCR_SYS_RAM_ALLOC, -1), "cap");
	long ds = rtcr_ram_alloc(8192);
	report("RAM_ALLOC(8192)", ds, "cap");

	/* RAM_FREE */
	report("RAM_FREE(0)", rtcr_ram_free(0), "ok");
	report("RAM_FREE(-5)", rtcr_ram_free(-5), "ok");
	report("RAM_FREE(9999)", rtcr_ram_free(9999), "ok");
	report("RAM_FREE(address space)", rtcr_ram_free(RTCR_ADDRESS_SPACE), "ok");
	long ds2 = rtcr_ram_alloc(4096);
	report("RAM_FREE(ds2)", rtcr_ram_free(ds2), "ok");
	report("RAM_FREE(ds2) again", rtcr_ram_free(ds2), "ok");

	/* RAM_SEAL */
	report("RAM_SEAL(0)", rtcr_ram_seal(0), "ok");
	report("RAM_SEAL(9999)", rtcr_ram_seal(9999), "ok");
	report("RAM_SEAL(freed ds2)", rtcr_ram_seal(ds2), "ok");
	report("RAM_SEAL(address space)", rtcr_ram_seal(RTCR_ADDRESS_SPACE), "ok");

	/* RM_CREATE */
	report("RM_CREATE(0)", rtcr_rm_create(0), "cap");
	report("RM_CREATE(-1)", rtcr_rm_create((unsigned long)-1), "cap");
	report("RM_CREATE(huge)", rtcr_rm_create((unsigned long)HUGE), "cap");
	report("RM_CREATE(123)", rtcr_rm_create(123), "cap");
	long rm = rtcr_rm_create(64 * 1024);
	report("RM_CREATE(64K)", rm, "cap");

	/* RM_DATASPACE */
	report("RM_DATASPACE(0)", rtcr_rm_dataspace(0), "cap");
	report("RM_DATASPACE(-5)", rtcr_rm_dataspace(-5), "cap");
	report("RM_DATASPACE(ds)", rtcr_rm_dataspace(ds), "cap");
	long mds = rtcr_rm_dataspace(rm);
	report("RM_DATASPACE(rm)", mds, "cap");

	/* ATTACH */
	report("ATTACH(rm 0)", rtcr_attach(0, ds, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(rm 9999)", rtcr_attach(9999, ds, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(ds as rm)", rtcr_attach(ds, ds, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(ds -5)", rtcr_attach(rm, -5, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(rm as ds)", rtcr_attach(rm, rm, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(freed ds2)", rtcr_attach(rm, ds2, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(offset 123)", rtcr_attach(rm, ds, 0, 123, -1, RTCR_W), "addr");
	report("ATTACH(offset past end)", rtcr_attach(rm, ds, 0, 1UL << 20, -1, RTCR_W), "addr");
	report("ATTACH(size huge)", rtcr_attach(rm, ds, (unsigned long)HUGE, 0, -1, RTCR_W),
	       "addr");
	report("ATTACH(size past ds)", rtcr_attach(rm, ds, 3 * 4096, 0, -1, RTCR_W), "addr");
	report("ATTACH(at misaligned)", rtcr_attach(rm, ds, 0, 0, 0x1234, RTCR_W), "addr");
	report("ATTACH(at past rm)", rtcr_attach(rm, ds, 0, 0, 1L << 30, RTCR_W), "addr");
	report("ATTACH(at -4096)", rtcr_attach(rm, ds, 0, 0, -4096, RTCR_W), "addr");
	report("ATTACH(at kernel)", rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, KERNEL_PTR, RTCR_W),
	       "addr");
	report("ATTACH(flags garbage)", rtcr_attach(rm, ds, 0, 0, -1, 0xfff0), "addr");
	report("ATTACH(rm into itself)", rtcr_attach(rm, mds, 0, 0, -1, RTCR_W), "addr");
	report("ATTACH(ok at 0)", rtcr_attach(rm, ds, 0, 0, 0, RTCR_W), "addr");
	report("ATTACH(overlap)", rtcr_attach(rm, ds, 0, 0, 4096, RTCR_W), "addr");
	report("ATTACH(size 0 offset end)", rtcr_attach(rm, ds, 0, 8192, -1, RTCR_W), "addr");

	/* DETACH */
	report("DETACH(rm 0)", rtcr_detach(0, 0), "ok");
	report("DETACH(never attached)", rtcr_detach(rm, 0x8000), "ok");
	report("DETACH(wild)", rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)WILD), "ok");
	report("DETACH(-1)", rtcr_detach(rm, (unsigned long)-1), "ok");
	report("DETACH(ok)", rtcr_detach(rm, 0), "ok");
	report("DETACH(twice)", rtcr_detach(rm, 0), "ok");

	/* SIGNAL_CONTEXT */
	long sig = rtcr_signal_context();
	report("SIGNAL_CONTEXT()", sig, "cap");

	/* FAULT_HANDLER */
	report("FAULT_HANDLER(rm 0, sig)", rtcr_fault_handler(0, sig), "ok");
	report("FAULT_HANDLER(ds, sig)", rtcr_fault_handler(ds, sig), "ok");
	report("FAULT_HANDLER(rm, 9999)", rtcr_fault_handler(rm, 9999), "ok");
	report("FAULT_HANDLER(rm, ds)", rtcr_fault_handler(rm, ds), "ok");
	report("FAULT_HANDLER(rm, sig)", rtcr_fault_handler(rm, sig), "ok");
	report("FAULT_HANDLER(rm, -1)", rtcr_fault_handler(rm, -1), "ok");

	/* FAULT */
	struct rtcr_fault f = { 77, 77 };
	report("FAULT(rm 0, &f)", rtcr_fault(0, &f), "ok");
	report("FAULT(rm, NULL)", rtcr_fault(rm, NULL), "ok");
	report("FAULT(rm, wild)", rtcr_fault(rm, (struct rtcr_fault *)WILD), "ok");
	report("FAULT(rm, read-only)", rtcr_fault(rm, (struct rtcr_fault *)rodata_buf), "ok");
	report("FAULT(rm, code)", rtcr_fault(rm, (struct rtcr_fault *)(void *)main), "ok");
	r = rtcr_fault(rm, &f);
	report("FAULT(rm, &f)", r, "ok");
	if (r == 0)
		rtcr_printf("  fault type %ld (expect 0 = NONE)\n", f.type);

	/* SIGNAL_SUBMIT */
	report("SIGNAL_SUBMIT(0)", rtcr_signal_submit(0), "ok");
	report("SIGNAL_SUBMIT(-5)", rtcr_signal_submit(-5), "ok");
	report("SIGNAL_SUBMIT(9999)", rtcr_signal_submit(9999), "ok");
	report("SIGNAL_SUBMIT(ds)", rtcr_signal_submit(ds), "ok");

	/* THREAD_CREATE */
	/* (if the machine does create these, they run noop and exit) */
	report("THREAD_CREATE(stack huge)", rtcr_thread_create(noop, NULL, (unsigned long)HUGE),
	       "tid");
	report("THREAD_CREATE(stack -1)", rtcr_thread_create(noop, NULL, (unsigned long)-1),
	       "tid");

	/* THREAD_JOIN */
	report("THREAD_JOIN(-5)", rtcr_thread_join(-5), "ok");
	report("THREAD_JOIN(9999)", rtcr_thread_join(9999), "ok");

	/* TIME_US, SLEEP_US, YIELD, RAM_AVAIL, CAPS_AVAIL */
	report("TIME_US()", (long)rtcr_time_us(), "ok");
	report("SLEEP_US(0)", rtcr_syscall1(RTCR_SYS_SLEEP_US, 0), "ok");
	report("SLEEP_US(1)", rtcr_syscall1(RTCR_SYS_SLEEP_US, 1), "ok");
	report("YIELD()", rtcr_syscall0(RTCR_SYS_YIELD), "ok");
	report("RAM_AVAIL()", rtcr_ram_avail(), "ok");
	report("CAPS_AVAIL()", rtcr_caps_avail(), "ok");

	/* unknown system calls */
	for (long n = 64; n <= 72; n++) {
		char what[32];
		snprintf(what, sizeof(what), "SYSCALL(%ld)", n);
		report(what, rtcr_syscall6(n, -1, WILD, HUGE, 0, 9999, -5), "ok");
	}
	report("SYSCALL(-1)", rtcr_syscall0(-1), "ok");
	report("SYSCALL(1<<40)", rtcr_syscall0(1L << 40), "ok");

	/* clean up what did succeed; then a wild thread that faults at 0x1 */
	report("RAM_FREE(ds)", rtcr_ram_free(ds), "ok");
	report("RAM_FREE(ds) again", rtcr_ram_free(ds), "ok");
	report("THREAD_CREATE(trampoline 0x1)",
	       rtcr_syscall4(RTCR_SYS_THREAD_CREATE, 1, 0, 0, 16384), "tid");

	rtcr_printf("%lu calls\n", calls);
	rtcr_printf("survived\n");
	return 0;
}
