/*
 * fuzz -- a seeded guest-ABI fuzzer.
 *
 * Issues a long random sequence of system calls with random and adversarial
 * arguments: stale and forged capabilities, pointers into unmapped,
 * read-only, sealed and code memory, huge sizes, misaligned offsets, detach
 * of never-attached addresses, double frees, sealing then writing (through
 * a sub map with a signal fault handler), nesting beyond the limit, self
 * nesting and cycles, RAM exhaustion, thread storms and signal storms, PD
 * sessions (quota transfers that must conserve the total, frees and seals by
 * PDs that do not own the RAM).
 *
 * It never calls EXIT / THREAD_EXIT with garbage, never waits for a signal
 * it has not seen submitted, never joins a thread that might not end, and
 * never frees, seals or detaches what the loader gave it (its code, data and
 * stacks), so every run must end with "done ...".
 *
 * Configuration: `fuzz_config` below (seed, number of calls).  The defaults
 * come from -DFUZZ_SEED / -DFUZZ_CALLS; the host may patch the words after
 * the 16-byte magic in the ELF file instead of recompiling.
 *
 * Output: "ck CALLS CHECKSUM" every 1000 calls (a running checksum of every
 * result), "VIOLATION ..." for every broken in-guest invariant, and finally
 *   done calls=N ck=CHECKSUM violations=V
 * with exit status 0 (1 if violations were seen).
 */
#include <rtcr.h>

#ifndef FUZZ_SEED
#define FUZZ_SEED 1
#endif
#ifndef FUZZ_CALLS
#define FUZZ_CALLS 20000
#endif

struct fuzz_config {
	unsigned long magic[2];
	unsigned long seed;
	unsigned long calls;
};

volatile struct fuzz_config fuzz_config = {
	{ 0x5a5a46555a5a4352UL, 0x4749464e4f435a5aUL }, FUZZ_SEED, FUZZ_CALLS,
};

#define PAGE 4096UL
#define WILD 0xdeadbeef000L
#define KERNEL_PTR ((long)0xffff800000001000UL)
#define HUGE ((long)(1UL << 62))
/* A window of the address space only this fuzzer attaches at fixed addresses. */
#define WIN 0x400000000000UL
#define WIN_GUARD (WIN + PAGE)         /* never attached */
#define WIN_SEALED (WIN + 0x10000UL)   /* sealed page, attached read-only */
#define WIN_RO (WIN + 0x20000UL)       /* writable ds attached read-only */
#define WIN_FREE (WIN + 0x100000UL)    /* [WIN_FREE, WIN_END): random fixed attaches */
#define WIN_END (WIN + 0x400000UL)

static uint64_t rng;
static unsigned long calls, limit, violations;
static uint64_t ck = 0xcbf29ce484222325UL;
static unsigned long errs[16];
static long first_dyn;   /* selectors below this belong to the loader */

static uint64_t rnd(void) { return rtcr_xorshift64(&rng); }
static unsigned long below(unsigned long n) { return n ? rnd() % n : 0; }
static int chance(unsigned pct) { return below(100) < pct; }

static void fold(long r)
{
	ck = (ck ^ (uint64_t)r) * 0x100000001b3UL;
	ck ^= ck >> 29;
	if (r < 0 && -r < 16)
		errs[-r]++;
	else if (r < 0)
		errs[0]++;
	calls++;
	if (calls % 1000 == 0)
		rtcr_printf("ck %lu %016lx\n", calls, (unsigned long)ck);
}

static void violation(const char *what, long a, long b)
{
	violations++;
	rtcr_printf("VIOLATION %s (%ld, %ld) at call %lu\n", what, a, b, calls);
}

/* ---- pools ------------------------------------------------------------- */
#define NDS 48
struct ds { long cap; unsigned long size; int live, sealed; };
static struct ds dss[NDS];
static int nds;

#define NRM 24
static long rms[NRM];
static int nrm;

#define NSIG 16
static long sigs[NSIG];
static int nsig;
static long pending;     /* submissions not yet consumed by a wait */

#define NATT 64
struct att { long rm; unsigned long at; };
static struct att atts[NATT];
static int natt;

static struct ds *ram_of(long cap)
{
	for (int i = 0; i < nds; i++)
		if (dss[i].cap == cap)
			return &dss[i];
	return NULL;
}

static void remember_ds(long cap, unsigned long size)
{
	struct ds *d = nds < NDS ? &dss[nds++] : &dss[below(NDS)];
	d->cap = cap;
	d->size = (size + PAGE - 1) & ~(PAGE - 1);
	d->live = 1;
	d->sealed = 0;
}

static void remember_att(long rm, unsigned long at)
{
	struct att *a = natt < NATT ? &atts[natt++] : &atts[below(NATT)];
	a->rm = rm;
	a->at = at;
}

static long sealed_ds, ro_ds;

/* Selectors the fuzzer may free or seal: its own (live or stale) and values
 * that cannot name a RAM dataspace.  Never the loader's, a thread's stack, a
 * worker's memory or the window's pages (selectors it does not know). */
static long destroyable(long c)
{
	if (c == first_dyn || c == sealed_ds || c == ro_ds)
		return -c;
	if (c <= RTCR_ADDRESS_SPACE || c >= (1L << 31))
		return c;
	if (ram_of(c))
		return c;
	for (int i = 0; i < nrm; i++)
		if (rms[i] == c)
			return c;
	for (int i = 0; i < nsig; i++)
		if (sigs[i] == c)
			return c;
	return -c;
}

static long any_cap(void)
{
	switch (below(12)) {
	case 0: return 0;
	case 1: return RTCR_ADDRESS_SPACE;
	case 2: return -1 - (long)below(8);
	case 3: return (long)below(201);
	case 4: return (long)rnd();
	case 5: return 1L << (32 + below(30));
	case 6: case 7: return nds ? dss[below(nds)].cap : 0;
	case 8: case 9: return nrm ? rms[below(nrm)] : 1;
	default: return nsig ? sigs[below(nsig)] : 0;
	}
}

static long any_rm(void)
{
	if (chance(60))
		return nrm && chance(70) ? rms[below(nrm)] : RTCR_ADDRESS_SPACE;
	return any_cap();
}

static const char rodata[64] = "read-only data of the fuzzer";
static char scratch[256];

static long any_ptr(void)
{
	switch (below(12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return WILD + (long)below(1 << 20);
	case 3: return KERNEL_PTR;
	case 4: return (long)(void *)rodata;
	case 5: return (long)(void *)&violation;  /* code */
	case 6: return (long)(WIN_GUARD - 8);     /* straddles into the guard page */
	case 7: return (long)WIN_SEALED;
	case 8: return (long)WIN_RO + (long)below(PAGE);
	case 9: return (long)rnd();
	case 10: return -(long)below(4096);
	default: return (long)(void *)scratch + (long)below(64);  /* valid */
	}
}

static unsigned long any_size(void)
{
	switch (below(10)) {
	case 0: return 0;
	case 1: return 1 + below(PAGE);
	case 2: return PAGE * (1 + below(4));
	case 3: return (unsigned long)HUGE;
	case 4: return (unsigned long)-1 - below(PAGE);
	case 5: return 1UL << (20 + below(30));
	case 6: return PAGE * (1 + below(64)) + below(2);
	default: return PAGE * (1 + below(8));
	}
}

static unsigned long any_offset(void)
{
	switch (below(6)) {
	case 0: return 1 + below(PAGE - 1);
	case 1: return (unsigned long)HUGE;
	case 2: return PAGE * below(8);
	default: return 0;
	}
}

static long any_at(long rm)
{
	if (chance(45))
		return RTCR_ANYWHERE;
	if (rm == RTCR_ADDRESS_SPACE) {
		switch (below(6)) {
		case 0: return (long)(WIN_FREE + PAGE * below((WIN_END - WIN_FREE) / PAGE)) + (chance(10) ? 8 : 0);
		case 1: return KERNEL_PTR;
		case 2: return (long)below(0x10000);            /* null guard */
		case 3: return 1L << 47;
		case 4: return -4096;
		default: return (long)(WIN_FREE + PAGE * below(64));
		}
	}
	switch (below(5)) {
	case 0: return (long)(PAGE * below(64));
	case 1: return (long)(PAGE * below(64)) + 0x10;
	case 2: return (long)rnd();
	default: return (long)(PAGE * below(8));
	}
}

/* Addresses the fuzzer may detach.  In the address space: its own live
 * attachments there, its window, and places nothing can be -- never a thread's
 * stack or the loader's segments. */
static unsigned long any_detach_addr(long rm, int *slot)
{
	*slot = -1;
	if (natt && chance(50)) {
		int i = (int)below(natt);
		if (rm == atts[i].rm) {
			*slot = i;
			return atts[i].at + (chance(20) ? below(PAGE) : 0);
		}
		if (rm != RTCR_ADDRESS_SPACE && chance(30))
			return atts[i].at;
	}
	if (rm == RTCR_ADDRESS_SPACE) {
		switch (below(4)) {
		case 0: return WIN_FREE + PAGE * below((WIN_END - WIN_FREE) / PAGE);
		case 1: return (unsigned long)WILD;
		case 2: return (unsigned long)KERNEL_PTR;
		default: return below(0x10000);
		}
	}
	return chance(50) ? PAGE * below(64) : rnd();
}

static void forget_att(int slot)
{
	atts[slot] = atts[--natt];
}

/* ---- code integrity ---------------------------------------------------- */
static uint64_t code_sum(void)
{
	const unsigned char *p = (const unsigned char *)(void *)&fold;
	uint64_t h = 0;
	for (int i = 0; i < 128; i++)
		h = h * 131 + p[i];
	return h;
}

/* ---- setup: the window ------------------------------------------------- */

static void setup_window(void)
{
	long a = rtcr_ram_alloc(PAGE);
	first_dyn = a;
	if (a < 0 || rtcr_attach(RTCR_ADDRESS_SPACE, a, 0, 0, (long)WIN, RTCR_W) != (long)WIN)
		violation("window attach", a, 0);
	memset((void *)WIN, 0x5a, PAGE);

	sealed_ds = rtcr_ram_alloc(PAGE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, sealed_ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	strcpy((char *)at, "sealed signature");
	rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)at);
	if (rtcr_ram_seal(sealed_ds) != 0)
		violation("seal", sealed_ds, 0);
	/* writable attach of a sealed dataspace: allowed, but read-only in effect */
	if (rtcr_attach(RTCR_ADDRESS_SPACE, sealed_ds, 0, 0, (long)WIN_SEALED, RTCR_W) != (long)WIN_SEALED)
		violation("sealed attach", sealed_ds, 0);

	ro_ds = rtcr_ram_alloc(PAGE);
	if (rtcr_attach(RTCR_ADDRESS_SPACE, ro_ds, 0, 0, (long)WIN_RO, 0) != (long)WIN_RO)
		violation("ro attach", ro_ds, 0);
}

static void check_window(void)
{
	if (strcmp((const char *)WIN_SEALED, "sealed signature") != 0)
		violation("sealed page changed", 0, 0);
	const unsigned long *ro = (const unsigned long *)WIN_RO;
	for (unsigned i = 0; i < PAGE / 8; i++)
		if (ro[i] != 0) {
			violation("read-only page changed", (long)i, (long)ro[i]);
			break;
		}
	if (strcmp(rodata, "read-only data of the fuzzer") != 0)
		violation("rodata changed", 0, 0);
}

/* ---- threads ------------------------------------------------------------ */
static volatile unsigned long worker_sum;

/* Workers' RAM calls in progress and done: the main thread's exact RAM
 * accounting checks hold only if no worker's call fell between its reads. */
static volatile long worker_ram_busy;
static volatile unsigned long worker_ram_done;

static void worker_ram_begin(void) { __atomic_add_fetch(&worker_ram_busy, 1, __ATOMIC_SEQ_CST); }

static void worker_ram_end(void)
{
	__atomic_add_fetch(&worker_ram_done, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&worker_ram_busy, 1, __ATOMIC_SEQ_CST);
}

struct ram_quiet { long busy; unsigned long done; };

static struct ram_quiet ram_quiet_now(void)
{
	return (struct ram_quiet){ worker_ram_busy, worker_ram_done };
}

/* No worker touched RAM since `then`, nor is one doing so now. */
static int ram_was_quiet(struct ram_quiet then)
{
	return then.busy == 0 && worker_ram_busy == 0 && worker_ram_done == then.done;
}

static void worker(void *arg)
{
	unsigned long n = (unsigned long)arg;
	worker_ram_begin();
	long ds = rtcr_ram_alloc(PAGE * (1 + n % 3));
	worker_ram_end();
	if (ds >= 0) {
		long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
		if (at >= 0) {
			volatile unsigned long *p = (volatile unsigned long *)at;
			p[0] = n;
			rtcr_yield();
			if (p[0] != n)
				violation("worker memory", (long)p[0], (long)n);
			rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)at);
		}
		worker_ram_begin();
		rtcr_ram_free(ds);
		worker_ram_end();
	}
	if (n % 4 == 0)
		rtcr_sleep_us(n % 7);
	worker_sum += n;
}

#define NTID 80
static long tids[NTID];
static int ntid;

static void join_all(void)
{
	for (int i = 0; i < ntid; i++)
		fold(rtcr_thread_join(tids[i]));
	ntid = 0;
}

/* What THREAD_CREATE_NAMED starts: entry(arg), then the thread ends. */
static void named_trampoline(void (*entry)(void *), void *arg)
{
	entry(arg);
	rtcr_thread_exit();
}

static void op_thread(void)
{
	if (ntid >= NTID)
		join_all();
	unsigned long stack;
	switch (below(6)) {
	case 0: stack = (unsigned long)HUGE; break;
	case 1: stack = (unsigned long)-1; break;
	case 2: stack = 1 + below(20000); break;
	default: stack = 0;
	}
	long t;
	if (chance(30)) {   /* named: the name is a string, garbage or a bad pointer */
		long name = chance(50) ? (long)(void *)"fuzzer" : any_ptr();
		t = rtcr_syscall6(RTCR_SYS_THREAD_CREATE_NAMED, (long)&named_trampoline,
		                  (long)worker, (long)calls, (long)stack, name,
		                  (long)(chance(60) ? below(8) : any_size()));
	} else {
		t = rtcr_thread_create(worker, (void *)calls, stack);
	}
	fold(t);
	if (t >= 0)
		tids[ntid++] = t;
}

static void thread_storm(void)
{
	join_all();
	for (int i = 0; i < NTID; i++) {
		long t = rtcr_thread_create(worker, (void *)(unsigned long)i, 0);
		fold(t);
		if (t < 0) {
			if (t != -RTCR_ENOTHREAD && t != -RTCR_ENORAM && t != -RTCR_ENOCAPS)
				violation("thread storm error", t, i);
			break;
		}
		tids[ntid++] = t;
	}
	join_all();
}

static int wild_threads;

static void wild_thread(void)
{
	/* entry points no attach can ever cover: they fault and stay blocked */
	if (wild_threads >= 3)
		return;
	long entry = chance(50) ? 1 : KERNEL_PTR;
	long t = rtcr_syscall4(RTCR_SYS_THREAD_CREATE, entry, 0, 0, 16384);
	fold(t < 0 ? t : 0);
	if (t >= 0)
		wild_threads++;
}

/* ---- signals ------------------------------------------------------------ */
static void drain(void)
{
	while (pending > 0) {
		long r = rtcr_signal_wait();
		fold(r < 0 ? r : 0);
		if (r < 0)
			violation("signal wait", r, pending);
		pending--;
	}
}

static void signal_storm(void)
{
	if (!nsig)
		return;
	unsigned long n = 1 + below(300);
	for (unsigned long i = 0; i < n; i++) {
		long r = rtcr_signal_submit(sigs[below(nsig)]);
		fold(r);
		if (r == 0)
			pending++;
	}
	drain();
}

/* ---- scenarios ---------------------------------------------------------- */
static void nesting(void)
{
	long chain[7];
	long ats[7];
	int n = 0;
	for (int i = 0; i < 7; i++) {
		chain[i] = rtcr_rm_create(1UL << 20);
		fold(chain[i]);
		if (chain[i] < 0)
			return;
		n++;
	}
	/* attach chain[0] into the address space, chain[i] into chain[i-1] */
	long parent = RTCR_ADDRESS_SPACE;
	int depth;
	for (depth = 0; depth < 7; depth++) {
		long mds = rtcr_rm_dataspace(chain[depth]);
		long at = rtcr_attach(parent, mds, 0, 0,
		                      parent == RTCR_ADDRESS_SPACE ? RTCR_ANYWHERE : 0, RTCR_W);
		fold(at);
		if (at < 0) {
			/* the path AS -> chain[0..depth] would hold depth + 2 maps */
			if (at != -RTCR_ENESTING || depth + 2 <= 5)
				violation("nesting depth", at, depth);
			break;
		}
		ats[depth] = at;
		parent = chain[depth];
	}
	if (depth > 4)
		violation("nesting deeper than 5 maps accepted", depth, 0);
	/* self nesting and a cycle */
	long r = rtcr_attach(chain[3], rtcr_rm_dataspace(chain[3]), 0, 0, RTCR_ANYWHERE, RTCR_W);
	fold(r);
	if (r != -RTCR_ENESTING)
		violation("self nesting", r, 0);
	r = rtcr_attach(chain[2], rtcr_rm_dataspace(chain[0]), 0, 0, RTCR_ANYWHERE, RTCR_W);
	fold(r);
	if (r != -RTCR_ENESTING)
		violation("cycle", r, 0);
	r = rtcr_attach(chain[1], rtcr_rm_dataspace(RTCR_ADDRESS_SPACE), PAGE, 0, RTCR_ANYWHERE, 0);
	fold(r);
	if (r != -RTCR_ENESTING)
		violation("address space inside itself", r, 0);
	/* undo, innermost first */
	for (int i = depth - 1; i >= 0; i--) {
		r = rtcr_detach(i == 0 ? RTCR_ADDRESS_SPACE : chain[i - 1], (unsigned long)ats[i]);
		fold(r);
		if (r != 0)
			violation("nesting detach", r, i);
	}
	for (int i = 0; i < n && nrm < NRM; i++)
		rms[nrm++] = chain[i];
}

static void sealed_writer(void *arg)
{
	volatile unsigned long *p = (volatile unsigned long *)arg;
	*p = 0x1234;   /* faults (sealed) until the page is replaced */
	if (*p != 0x1234)
		violation("retried write lost", (long)*p, 0);
}

static void seal_then_write(void)
{
	long sub = rtcr_rm_create(16 * PAGE);
	long ds = rtcr_ram_alloc(PAGE);
	long ctx = rtcr_signal_context();
	long fresh = rtcr_ram_alloc(PAGE);
	if (sub < 0 || ds < 0 || ctx < 0 || fresh < 0) {
		fold(-1);
		if (ds >= 0) rtcr_ram_free(ds);
		if (fresh >= 0) rtcr_ram_free(fresh);
		return;
	}
	fold(rtcr_attach(sub, ds, 0, 0, 4 * PAGE, RTCR_W));
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, rtcr_rm_dataspace(sub), 0, 0, RTCR_ANYWHERE, RTCR_W);
	fold(base);
	if (base < 0) {
		rtcr_ram_free(ds);
		rtcr_ram_free(fresh);
		return;
	}
	volatile unsigned long *p = (volatile unsigned long *)(base + 4 * PAGE);
	*p = 77;
	fold(rtcr_fault_handler(sub, ctx));
	long r = rtcr_ram_seal(ds);
	fold(r);
	if (r != 0)
		violation("seal own ds", r, 0);
	/* Genode: the attachment made before the seal keeps its rights; a later one is read-only */
	fold(rtcr_detach(sub, 4 * PAGE));
	fold(rtcr_attach(sub, ds, 0, 0, 4 * PAGE, RTCR_W));
	drain();
	long t = rtcr_thread_create(sealed_writer, (void *)p, 0);
	fold(t);
	if (t >= 0) {
		long got;
		do   /* the writer's fault arrives (a wild thread's may come first) */
			got = rtcr_signal_wait();
		while (got != ctx);
		struct rtcr_fault f = { 0, 0 };
		fold(rtcr_fault(sub, &f));
		if (f.type != RTCR_FAULT_WRITE || f.addr != 4 * PAGE)
			violation("sealed write fault", f.type, (long)f.addr);
		if (*p != 77)
			violation("write landed in sealed ds", (long)*p, 77);
		/* replace the sealed page: the writer retries and succeeds */
		fold(rtcr_detach(sub, 4 * PAGE));
		fold(rtcr_attach(sub, fresh, 0, 0, 4 * PAGE, RTCR_W));
		fold(rtcr_thread_join(t));
		if (*p != 0x1234)
			violation("retried write", (long)*p, 0x1234);
		fold(rtcr_fault(sub, &f));
		if (f.type != RTCR_FAULT_NONE)
			violation("fault queue not empty", f.type, 0);
	}
	fold(rtcr_fault_handler(sub, -1));
	fold(rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)base));
	fold(rtcr_ram_free(ds));
	fold(rtcr_ram_free(fresh));
	if (nsig < NSIG)
		sigs[nsig++] = ctx;
	if (nrm < NRM)
		rms[nrm++] = sub;
}

static void exhaust_ram(void)
{
	long mine[256];
	int n = 0;
	join_all();   /* an exiting worker frees its stack: the balance below would be off */
	long before = rtcr_ram_avail();
	unsigned long chunk = PAGE << below(8);
	while (n < 256) {
		long d = rtcr_ram_alloc(chunk);
		fold(d);
		if (d < 0) {
			if (d != -RTCR_ENORAM && d != -RTCR_ENOCAPS)
				violation("exhaust error", d, n);
			break;
		}
		mine[n++] = d;
	}
	for (int i = 0; i < n; i++) {
		long r = rtcr_ram_free(mine[i]);
		fold(r);
		if (r != 0)
			violation("exhaust free", r, i);
	}
	if (rtcr_ram_avail() != before)
		violation("RAM not refunded", rtcr_ram_avail(), before);
}

/* ---- PD sessions --------------------------------------------------------- */
#define NPD 4
static long pds[NPD];          /* PD sessions it works with */
static int npd;
#define NSTRAY 32
static long strays[NSTRAY];    /* PD sessions a garbage PD_CREATE opened after all */
static int nstray;
static long self_pd;           /* its own PD's capability */
static long limit_total[2];    /* RAM and cap limits of all its PDs: only ever moved */

#define NPDDS 8
struct pdds { long cap; int owner; unsigned long size; };
static struct pdds pddss[NPDDS];
static int npdds;

static long any_pd(void)
{
	if (chance(60) && npd)
		return pds[below(npd)];
	return chance(50) ? self_pd : -1 - (long)below(4);
}

static long limit_sum(unsigned which)
{
	long sum = rtcr_pd_quota(self_pd, which);
	for (int i = 0; i < npd; i++)
		sum += rtcr_pd_quota(pds[i], which);
	for (int i = 0; i < nstray; i++)
		sum += rtcr_pd_quota(strays[i], which);
	return sum;
}

/* Which of its PDs `pd` names: a session's index, -1 its own, -2 none. */
static int owner_of(long pd)
{
	for (int i = 0; i < npd; i++)
		if (pds[i] == pd)
			return i;
	return pd == self_pd ? -1 : -2;
}

/* A dataspace of a PD session, or a value that names none it owns. */
static struct pdds *any_pdds(void)
{
	return npdds && chance(80) ? &pddss[below(npdds)] : NULL;
}

static void pd_ops(void)
{
	if (!self_pd) {
		self_pd = rtcr_pd_self();
		limit_total[0] = limit_sum(RTCR_PD_RAM_LIMIT);
		limit_total[1] = limit_sum(RTCR_PD_CAPS_LIMIT);
	}
	switch (below(11)) {
	case 0:
		if (npd < NPD && chance(60)) {
			long pd = rtcr_pd_create(chance(50) ? "" : "fuzz");
			fold(pd < 0 ? pd : 0);
			if (pd > 0)
				pds[npd++] = pd;
		} else if (nstray < NSTRAY) {
			long pd = rtcr_syscall2(RTCR_SYS_PD_CREATE, any_ptr(), (long)any_size());
			fold(pd < 0 ? pd : 0);
			if (pd > 0)
				strays[nstray++] = pd;
		}
		break;
	case 1: fold(rtcr_pd_ref_account(any_pd(), any_pd())); break;
	case 2: {
		unsigned kind = chance(90) ? (unsigned)below(2) : 2 + (unsigned)below(100);
		unsigned long amount = chance(70) ? below(kind ? 8 : 64 * 1024) : any_size();
		fold(rtcr_pd_transfer(any_pd(), any_pd(), amount, kind));
		break;
	}
	case 3: {
		long pd = any_pd();
		unsigned long size = chance(80) ? PAGE * (1 + below(4)) : any_size();
		long ds = rtcr_pd_ram_alloc(pd, size);
		fold(ds < 0 ? ds : 0);
		if (ds > 0 && owner_of(pd) == -2)
			violation("RAM allocated on something that is no PD", pd, ds);
		if (ds > 0 && npdds < NPDDS)
			pddss[npdds++] = (struct pdds){ ds, owner_of(pd), (size + PAGE - 1) & ~(PAGE - 1) };
		else if (ds > 0)
			fold(rtcr_pd_ram_free(pd, ds));
		break;
	}
	case 4: {
		struct pdds *d = any_pdds();
		long pd = any_pd();
		long r = rtcr_pd_ram_free(pd, d ? d->cap : -1 - (long)below(8));
		fold(r);
		if (d && owner_of(pd) == d->owner) {
			if (r != 0)
				violation("the owner could not free its RAM", d->cap, r);
			*d = pddss[--npdds];
		} else if (r == 0) {
			violation("a PD freed RAM it does not own", pd, d ? d->cap : 0);
		}
		break;
	}
	case 5: {
		struct pdds *d = any_pdds();
		long pd = any_pd();
		long r = rtcr_pd_ram_seal(pd, d ? d->cap : -1, chance(80) ? 0 : (unsigned)rnd());
		fold(r);
		if (r == 0 && (!d || owner_of(pd) != d->owner))
			violation("a PD sealed RAM it does not own", pd, d ? d->cap : 0);
		break;
	}
	case 6: {
		struct pdds *d = any_pdds();
		long pd = any_pd();
		long r = rtcr_pd_ram_size(pd, d ? d->cap : any_cap());
		fold(r);
		if (d && owner_of(pd) == d->owner && r != (long)d->size)
			violation("ram_size of its own RAM", r, (long)d->size);
		break;
	}
	case 7: {
		/* a delegated capability gets the same selector again, and costs that PD one cap */
		long pd = any_pd();
		long cap = chance(40) && nds ? dss[below(nds)].cap
		         : chance(40) && nsig ? sigs[below(nsig)] : any_cap();
		long first = rtcr_cap_delegate(pd, cap);
		fold(first);
		if (first > 0 && rtcr_cap_delegate(pd, cap) != first)
			violation("a second delegation gave another selector", pd, cap);
		break;
	}
	case 8: {
		/* a freed context is revoked: the next submit names nothing */
		long ctx = rtcr_signal_context();
		fold(ctx < 0 ? ctx : 0);
		if (ctx < 0)
			break;
		if (npd && chance(50))
			fold(rtcr_cap_delegate(pds[below(npd)], ctx) < 0 ? -1 : 0);
		/* (no submit first: a thread waiting at the PD's receiver would take it) */
		fold(rtcr_signal_free(ctx));
		if (rtcr_signal_submit(ctx) != -RTCR_ECAP)
			violation("a freed signal context is still there", ctx, 0);
		fold(rtcr_signal_free(chance(50) ? ctx : -1 - (long)below(8)));   /* never one of sigs[] */
		break;
	}
	case 9: {
		/* a PD's address space; children only with garbage (it holds no ROM to start) */
		long rm = rtcr_pd_address_space(any_pd());
		fold(rm < 0 ? rm : 0);
		long area = rtcr_pd_stack_area(any_pd());
		fold(area < 0 ? area : 0);
		long r = rtcr_syscall5(RTCR_SYS_CHILD_START, any_pd(), any_cap(), any_ptr(),
		                       (long)any_size(), any_cap());
		fold(r);
		if (r == 0)
			violation("a child started from no ROM", 0, 0);
		long value = rtcr_child_exit_value(any_pd());
		fold(value);
		if (value != -RTCR_ENOTHREAD && value != -RTCR_ECAP)
			violation("an exit value of a child that never was", value, 0);
		break;
	}
	default: fold(rtcr_pd_quota(any_pd(), (unsigned)below(6))); break;
	}
	if (limit_sum(RTCR_PD_RAM_LIMIT) != limit_total[0])
		violation("RAM quota created or lost", limit_sum(RTCR_PD_RAM_LIMIT), limit_total[0]);
	if (limit_sum(RTCR_PD_CAPS_LIMIT) != limit_total[1])
		violation("cap quota created or lost", limit_sum(RTCR_PD_CAPS_LIMIT), limit_total[1]);
}

/* ---- one random call ------------------------------------------------------ */
static void one(void)
{
	long r;
	unsigned op = (unsigned)below(100);
	if (op < 10) {                                       /* RAM_ALLOC */
		unsigned long size = chance(70) ? PAGE * (1 + below(8)) : any_size();
		struct ram_quiet quiet = ram_quiet_now();
		long before = rtcr_ram_avail();
		r = rtcr_ram_alloc(size);
		fold(r);
		long spent = before - rtcr_ram_avail();
		if (!ram_was_quiet(quiet)) {
			if (r >= 0)
				remember_ds(r, size);
		} else if (r >= 0) {
			if (spent != (long)((size + PAGE - 1) & ~(PAGE - 1)))
				violation("alloc charge", spent, (long)size);
			remember_ds(r, size);
		} else if (spent != 0) {
			violation("failed alloc charged", spent, r);
		}
	} else if (op < 16) {                                /* RAM_FREE */
		long c = destroyable(chance(70) && nds ? dss[below(nds)].cap : any_cap());
		struct ds *d = ram_of(c);
		struct ram_quiet quiet = ram_quiet_now();
		long before = rtcr_ram_avail();
		r = rtcr_ram_free(c);
		fold(r);
		long got = rtcr_ram_avail() - before;
		if (r == 0) {
			if (!d || !d->live)
				violation("freed a ds that was not live", c, 0);
			else if (got != (long)d->size && ram_was_quiet(quiet))
				violation("free refund", got, (long)d->size);
			if (d)
				d->live = 0;
		} else if (d && d->live && c >= first_dyn) {
			violation("free of own live ds failed", r, c);
		}
	} else if (op < 19) {                                /* RAM_SEAL */
		long c = destroyable(chance(60) && nds ? dss[below(nds)].cap : any_cap());
		r = rtcr_ram_seal(c);
		fold(r);
		struct ds *d = ram_of(c);
		if (r == 0 && d)
			d->sealed = 1;
	} else if (op < 22) {                                /* RM_CREATE */
		r = rtcr_rm_create(chance(70) ? PAGE * (1 + below(256)) : any_size());
		fold(r);
		if (r >= 0 && nrm < NRM)
			rms[nrm++] = r;
		else if (r >= 0)
			rms[below(NRM)] = r;
	} else if (op < 26) {                                /* RM_DATASPACE */
		r = rtcr_rm_dataspace(any_rm());
		fold(r);
	} else if (op < 44) {                                /* ATTACH */
		long rm = any_rm();
		long ds = chance(60) && nds ? dss[below(nds)].cap
		        : chance(40) && nrm ? rtcr_rm_dataspace(rms[below(nrm)]) : any_cap();
		unsigned long size = chance(60) ? 0 : chance(50) ? PAGE * below(4) : any_size();
		unsigned long offset = chance(70) ? 0 : any_offset();
		long at = any_at(rm);
		unsigned flags = chance(90) ? (unsigned)below(4) : (unsigned)rnd();
		r = rtcr_attach(rm, ds, size, offset, at, flags);
		fold(r);
		if (r >= 0) {
			remember_att(rm, (unsigned long)r);
			struct ds *d = ram_of(ds);
			if (rm == RTCR_ADDRESS_SPACE && (flags & RTCR_W) && d && d->live && !d->sealed) {
				volatile unsigned long *p = (volatile unsigned long *)r;
				*p = ck;
				if (*p != ck)
					violation("attached memory", (long)*p, (long)ck);
			} else if (rm == RTCR_ADDRESS_SPACE && d && d->live) {
				(void)*(volatile unsigned long *)r;   /* reads always work */
			}
		}
	} else if (op < 56) {                                /* DETACH */
		long rm = any_rm();
		int slot;
		r = rtcr_detach(rm, any_detach_addr(rm, &slot));
		fold(r);
		if (r == 0 && slot >= 0)
			forget_att(slot);
	} else if (op < 60) {                                /* FAULT_HANDLER */
		long rm = chance(80) ? any_rm() : any_cap();
		long ctx = chance(20) ? -1 : chance(60) && nsig ? sigs[below(nsig)] : any_cap();
		fold(rtcr_fault_handler(rm, ctx));
	} else if (op < 66) {                                /* FAULT */
		struct rtcr_fault f = { 99, 99 };
		long ptr = chance(30) ? (long)(void *)&f : any_ptr();
		r = rtcr_fault(any_rm(), (struct rtcr_fault *)ptr);
		fold(r);
		if (r == 0 && ptr == (long)(void *)&f && f.type != RTCR_FAULT_NONE)
			fold(f.type);
		if (r == 0 && (ptr == (long)WIN_SEALED || (ptr >= (long)WIN_RO && ptr < (long)(WIN_RO + PAGE))
		               || ptr == (long)(void *)rodata || ptr == (long)(void *)&violation
		               || ptr == (long)(WIN_GUARD - 8)))
			violation("FAULT wrote through a read-only path", ptr, 0);
	} else if (op < 69) {                                /* SIGNAL_CONTEXT */
		r = rtcr_signal_context();
		fold(r);
		if (r >= 0 && nsig < NSIG)
			sigs[nsig++] = r;
	} else if (op < 75) {                                /* SIGNAL_SUBMIT */
		r = rtcr_signal_submit(chance(60) && nsig ? sigs[below(nsig)] : any_cap());
		fold(r);
		if (r == 0)
			pending++;
		if (pending && chance(30)) {
			r = rtcr_signal_wait();
			fold(r < 0 ? r : 0);
			pending--;
		}
	} else if (op < 78) {                                /* THREAD_CREATE */
		op_thread();
	} else if (op < 80) {                                /* THREAD_JOIN (safe) */
		long tid;
		switch (below(4)) {
		case 0: tid = -1 - (long)below(100); break;
		case 1: tid = 1L << 40; break;
		case 2: tid = 1; break;   /* main: itself */
		default: tid = ntid ? tids[below(ntid)] : 99999; break;
		}
		fold(rtcr_thread_join(tid));
	} else if (op < 84) {                                /* LOG */
		long ptr = any_ptr();
		unsigned long len = chance(50) ? 1 + below(64) : any_size();
		if (ptr >= (long)(void *)scratch && ptr < (long)(void *)scratch + 256)
			len = 0;   /* valid: an empty line */
		fold(rtcr_syscall2(RTCR_SYS_LOG, ptr, (long)len));
	} else if (op < 87) {                                /* unknown syscalls */
		long first_unknown = RTCR_SYS_DS_WRITEABLE + 1;
		long n = chance(50) ? first_unknown + (long)below(64) : (long)rnd();
		if (n >= 0 && n < first_unknown)
			n = first_unknown;
		fold(rtcr_syscall6(n, (long)rnd(), any_ptr(), (long)any_size(), any_cap(), -1, 0));
	} else if (op < 92) {                                /* cheap queries */
		switch (below(12)) {
		case 0: fold(rtcr_ram_avail()); break;
		case 1: fold(rtcr_caps_avail()); break;
		case 2: fold(rtcr_syscall0(RTCR_SYS_YIELD)); break;
		case 3: fold(rtcr_syscall1(RTCR_SYS_SLEEP_US, (long)(chance(80) ? below(20) : (1UL << 41)))); break;
		/* the calls of the Genode API; receivers and kills only with bad arguments,
		 * since a real wait would block and a real kill would end a fuzzing thread */
		case 4: fold(rtcr_thread_self() > 0 ? 0 : -1); break;
		case 5: fold(rtcr_ds_size(chance(60) && nds ? dss[below(nds)].cap : any_cap())); break;
		case 6: fold(rtcr_syscall2(RTCR_SYS_ROM_OPEN, any_ptr(), (long)(chance(50) ? below(300) : any_size()))); break;
		case 7: fold(rtcr_signal_context_at(any_cap())); fold(rtcr_signal_wait_at(any_cap())); break;
		case 8: fold(rtcr_thread_kill(chance(50) ? -1 - (long)below(100) : 1L << 40)); break;
		case 9: fold(rtcr_ram_seal_flags(any_cap(), (unsigned)(2 + below(1000)))); break;
		case 10: fold(rtcr_ds_writeable(chance(60) && nds ? dss[below(nds)].cap : any_cap())); break;
		default: (void)rtcr_time_us(); fold(0); break;
		}
	} else {                                             /* scenarios */
		switch (below(10)) {
		case 0: nesting(); break;
		case 1: seal_then_write(); break;
		case 2: thread_storm(); break;
		case 3: signal_storm(); break;
		case 4: exhaust_ram(); break;
		case 5: wild_thread(); break;
		case 6: for (unsigned long n = 1 + below(16); n; n--) pd_ops(); break;
		default: check_window(); fold(0); break;
		}
	}
}

int main(void)
{
	rng = fuzz_config.seed ? fuzz_config.seed : 1;
	limit = fuzz_config.calls;
	for (int i = 0; i < 10; i++)
		rnd();
	uint64_t code = code_sum();
	setup_window();
	while (calls < limit)
		one();
	drain();
	join_all();
	check_window();
	if (code_sum() != code)
		violation("code changed", 0, 0);
	rtcr_printf("done calls=%lu ck=%016lx violations=%lu\n", calls, (unsigned long)ck,
	            violations);
	rtcr_printf("errors einval=%lu ecap=%lu efault=%lu enoram=%lu enocaps=%lu econflict=%lu "
	            "edenied=%lu einvalds=%lu enoregion=%lu enesting=%lu enosys=%lu enothread=%lu\n",
	            errs[1], errs[2], errs[3], errs[4], errs[5], errs[6], errs[7], errs[8], errs[9],
	            errs[10], errs[11], errs[12]);
	return violations ? 1 : 0;
}
