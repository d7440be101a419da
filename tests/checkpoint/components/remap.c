/*
 * remap -- other code attached at the same address, round after round.
 *
 * Test workload for code coherence: two dataspaces hold functions of the
 * same size but a different number of instructions (five `inc eax` or one
 * `add eax, 1` and a five-byte nop fill the same bytes). Each round calls
 * the function at one executable address, detaches it and attaches the
 * other dataspace there. No byte of code is written after the start, so
 * only a machine that notices the new mapping counts the new instructions.
 */
#include <rtcr.h>

#define ROUNDS 40

static void emit(volatile unsigned char *p, int five_incs)
{
	int i = 0;
	p[i++] = 0x89;             /* mov eax, edi */
	p[i++] = 0xf8;
	for (int slot = 0; slot < 4; slot++) {
		if (five_incs) {
			for (int k = 0; k < 5; k++) {
				p[i++] = 0xff;  /* inc eax */
				p[i++] = 0xc0;
			}
		} else {
			static const unsigned char add_nop[10] = { 0x05, 1, 0, 0, 0,
			                                           0x0f, 0x1f, 0x44, 0, 0 };
			for (int k = 0; k < 10; k++)
				p[i++] = add_nop[k];
		}
	}
	p[i++] = 0xc3;             /* ret */
}

int main(void)
{
	long a = rtcr_ram_alloc(RTCR_PAGE_SIZE), b = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	long wa = rtcr_attach(RTCR_ADDRESS_SPACE, a, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long wb = rtcr_attach(RTCR_ADDRESS_SPACE, b, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (a < 0 || b < 0 || wa < 0 || wb < 0)
		return 1;
	emit((volatile unsigned char *)wa, 1);
	emit((volatile unsigned char *)wb, 0);
	long x = rtcr_attach(RTCR_ADDRESS_SPACE, a, 0, 0, RTCR_ANYWHERE, RTCR_X);
	unsigned int acc = 7;
	for (int round = 0; round < ROUNDS; round++) {
		unsigned int (*fn)(unsigned int) = (unsigned int (*)(unsigned int))x;
		for (int i = 0; i < 20000; i++)
			acc = acc * 1103515245u + 12345u;
		acc = fn(acc);
		if (rtcr_detach(RTCR_ADDRESS_SPACE, x) != 0 ||
		    rtcr_attach(RTCR_ADDRESS_SPACE, (round & 1) ? a : b, 0, 0, x, RTCR_X) != x)
			return 2;
		rtcr_printf("round %d acc %x\n", round, acc);
	}
	return 0;
}
