/*
 * tracker -- reads and writes exactly the arena pages a plan names.
 *
 * Test workload for dirty tracking.  `plan` is patched into the ELF by the
 * test (it starts with a magic marker): the number of phases, then per
 * phase the arena pages to read and the pages to write.  The component
 * allocates a 37-page arena, logs "ready" and yields; then for every phase
 * it reads the named pages, writes the named pages (a value that differs
 * from phase to phase), logs "phase" and yields.  The test pauses at each
 * yield and checkpoints, so each checkpoint covers exactly one phase.
 * Nothing else touches the arena.
 */
#include <rtcr.h>

#define ARENA_PAGES 37UL
#define PLAN_WORDS 4096

volatile unsigned int plan[PLAN_WORDS] = { 0x50435452u, 0x214e414cu, 0 };

int main(void)
{
	long ds = rtcr_ram_alloc(ARENA_PAGES * RTCR_PAGE_SIZE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (ds < 0 || at < 0) {
		rtcr_log("setup failed");
		return 1;
	}
	volatile unsigned long *arena = (volatile unsigned long *)at;
	unsigned long acc = 0;
	unsigned int idx = 3;
	unsigned int phases = plan[2];
	rtcr_log("ready");
	rtcr_yield();
	for (unsigned int ph = 0; ph < phases; ph++) {
		unsigned int reads = plan[idx++];
		for (unsigned int i = 0; i < reads; i++) {
			unsigned long page = plan[idx++];
			acc = acc * 31 + arena[page * 512 + (page * 7 + ph) % 512];
		}
		unsigned int writes = plan[idx++];
		for (unsigned int i = 0; i < writes; i++) {
			unsigned long page = plan[idx++];
			arena[page * 512 + (page * 13 + ph) % 512] = (ph + 1) * 1000003UL + page + acc;
		}
		rtcr_log("phase");
		rtcr_yield();
	}
	rtcr_printf("acc %lx\n", acc);
	return 0;
}
