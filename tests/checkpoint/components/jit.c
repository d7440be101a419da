/*
 * jit -- a W^X JIT: one dataspace attached twice, writable and executable.
 *
 * Test workload for code coherence. Every round the component emits a new
 * function through the writable mapping and calls it through the
 * executable one. The functions of different rounds have the same address
 * and the same size but different instructions (and different numbers of
 * instructions: one `add eax, imm32` or five `inc eax` fill the same ten
 * bytes), so stale translated code, or a stale instruction count, changes
 * the output or the instruction count. Between rounds it computes a while,
 * so checkpoints fall between writing and calling code.
 */
#include <rtcr.h>

#define ROUNDS 60
#define SLOTS 12
#define SLOT_BYTES 10

typedef unsigned int (*jitted)(unsigned int);

static unsigned char *emit_slot(unsigned char *p, unsigned int round, int slot)
{
	unsigned int pick = (round * 7 + (unsigned int)slot * 3) % 5;
	if (pick < 2) {          /* add eax, imm32 ; nopl 0(rax,rax,1) */
		unsigned int imm = round * 131 + (unsigned int)slot;
		*p++ = 0x05;
		__builtin_memcpy(p, &imm, 4);
		p += 4;
		static const unsigned char nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
		__builtin_memcpy(p, nop5, 5);
		p += 5;
	} else {                 /* inc eax, five times */
		for (int i = 0; i < 5; i++) {
			*p++ = 0xff;
			*p++ = 0xc0;
		}
	}
	return p;
}

int main(void)
{
	long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	long w = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long x = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_X);
	if (ds < 0 || w < 0 || x < 0) {
		rtcr_log("setup failed");
		return 1;
	}
	volatile unsigned char *code = (volatile unsigned char *)w;
	jitted fn = (jitted)x;
	unsigned int acc = 1;
	for (unsigned int round = 0; round < ROUNDS; round++) {
		unsigned char buf[3 + SLOTS * SLOT_BYTES + 1];
		unsigned char *p = buf;
		*p++ = 0x89;     /* mov eax, edi */
		*p++ = 0xf8;
		*p++ = 0x90;     /* nop */
		for (int slot = 0; slot < SLOTS; slot++)
			p = emit_slot(p, round, slot);
		*p++ = 0xc3;     /* ret */
		for (unsigned long i = 0; i < sizeof buf; i++)
			code[i] = buf[i];
		unsigned int spin = acc;
		for (int i = 0; i < 20000; i++)
			spin = spin * 1103515245u + 12345u;
		acc = fn(acc ^ (spin & 0xff)) * 2654435761u;
		rtcr_printf("round %u acc %x\n", round, acc);
	}
	return 0;
}
