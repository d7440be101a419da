/*
 * exec_fault -- jumping into non-executable memory raises an EXEC fault.
 *
 * Demonstrates: executable rights are the AND along the nested path, and a
 * violation is reported at the *leaf* map -- the one whose region holds the
 * RAM -- whichever level took the right away (as Genode's core does).  A
 * RAM page is attached RTCR_W|RTCR_X into a sub region map; the map's
 * managed dataspace is attached RTCR_W only (no RTCR_X) into the address
 * space.  The component copies a tiny function into the page
 * (b8 2a 00 00 00 c3: mov eax, 42; ret) and calls it.  The instruction
 * fetch faults; the sub map's handler thread sees an EXEC fault at sub-map
 * address 0x0 (the function's first byte), although it is the address
 * space's window that is not executable.  It re-attaches the window
 * RTCR_W|RTCR_X and re-attaches the page in the sub map (which resolves the
 * fault queued there); the call then retries and returns 42.
 *
 * Expected output (see expected/exec_fault.txt):
 *   [exec_fault] fault: EXEC at 0x0
 *   [exec_fault] function returned 42
 *   [exec_fault] exec faults: 1
 *   [exec_fault] exec_fault done
 * exit status 0
 */
#include <rtcr.h>

static const char *const type_names[] = { "NONE", "READ", "WRITE", "EXEC" };

static long rm, ram, mds, base;
static volatile unsigned long exec_faults, other_faults;

static void handler(void *arg)
{
	(void)arg;
	for (;;) {
		rtcr_signal_wait();
		struct rtcr_fault f;
		if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
			continue;
		if (f.type == RTCR_FAULT_EXEC)
			exec_faults++;
		else
			other_faults++;
		rtcr_printf("fault: %s at 0x%lx\n",
		            f.type >= 0 && f.type < 4 ? type_names[f.type] : "?", f.addr);
		unsigned long page = f.addr & ~(RTCR_PAGE_SIZE - 1);
		long dw = rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)base);
		long aw = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, base, RTCR_W | RTCR_X);
		long d = rtcr_detach(rm, page);
		long a = rtcr_attach(rm, ram, 0, 0, (long)page, RTCR_W | RTCR_X);
		if (dw != 0 || aw != base || d != 0 || a != (long)page) {
			rtcr_printf("re-attach failed: window %ld/%ld page %ld/%ld\n", dw, aw, d, a);
			rtcr_exit(1);
		}
	}
}

static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

int main(void)
{
	ram = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	rm = rtcr_rm_create(RTCR_PAGE_SIZE);
	long sig = rtcr_signal_context();
	if (ram < 0 || rm < 0 || sig < 0) {
		rtcr_printf("setup failed: ram %ld rm %ld sig %ld\n", ram, rm, sig);
		return 1;
	}
	long a = rtcr_attach(rm, ram, 0, 0, 0, RTCR_W | RTCR_X);
	long r = rtcr_fault_handler(rm, sig);
	mds = rtcr_rm_dataspace(rm);
	base = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W); /* no RTCR_X */
	long tid = rtcr_thread_create(handler, NULL, 16 * 1024);
	if (a != 0 || r != 0 || mds < 0 || base < 0 || tid < 0) {
		rtcr_printf("setup failed: attach %ld handler %ld ds %ld base %ld thread %ld\n",
		            a, r, mds, base, tid);
		return 1;
	}

	volatile unsigned char *p = (volatile unsigned char *)base;
	for (unsigned i = 0; i < sizeof(code); i++)
		p[i] = code[i];
	__asm__ volatile("" ::: "memory");

	int (*fn)(void) = (int (*)(void))base;
	int result = fn();
	rtcr_printf("function returned %d\n", result);
	rtcr_printf("exec faults: %lu\n", exec_faults);
	if (result != 42 || exec_faults != 1 || other_faults != 0)
		return 1;
	rtcr_printf("exec_fault done\n");
	return 0;
}
