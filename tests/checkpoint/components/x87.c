/*
 * x87 -- long double arithmetic that lives on the x87 register stack.
 *
 * Test workload for the FPU state of a checkpoint: gcc keeps `long double`
 * values in ST0-ST7, so a checkpoint that falls inside the inner loop finds
 * four live 80-bit values on the stack. Every round also switches the x87
 * rounding mode and precision control (FPCW), reads the accumulated
 * exception flags (FPSW) and stores the FPU environment (FNSTENV: control,
 * status and tag words, last instruction and operand pointers), and logs
 * all of it, bit for bit, so any register a restore loses shows up in the
 * output. The SSE side does the same with double arithmetic under a
 * rounding mode set in MXCSR each round.
 */
#include <rtcr.h>

#define ROUNDS 24
#define STEPS 3000

struct fpu_env {
	unsigned int control, status, tag, ip, cs_op, dp, ds;
};

static void log_bits(const char *what, int round, long double value)
{
	unsigned long mantissa;
	unsigned short exponent;
	__builtin_memcpy(&mantissa, &value, 8);
	__builtin_memcpy(&exponent, (char *)&value + 8, 2);
	rtcr_printf("%d %s %lx %x\n", round, what, mantissa, exponent);
}

int main(void)
{
	static const unsigned short modes[4] = { 0x037f, 0x077f, 0x0b7f, 0x0e7f };
	static const unsigned int sse_modes[4] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80 };
	long double a = 1.0L, b = 0.5L, c = 3.0L, s = 0.0L;
	volatile double third = 1.0 / 3.0;
	double d = 1.0;
	for (int round = 0; round < ROUNDS; round++) {
		unsigned short cw = modes[round % 4];
		unsigned int csr = sse_modes[(round / 4) % 4];
		__asm__ volatile("fldcw %0" : : "m"(cw));
		__asm__ volatile("ldmxcsr %0" : : "m"(csr));
		for (int i = 0; i < STEPS; i++) {
			a = a * 1.0000001L + b;
			b = b / 1.0000003L - c * 1e-7L;
			c = c + a * 1e-9L;
			s += a - b;
			d = d * 1.0000001 + third;
		}
		unsigned long dbits;
		__builtin_memcpy(&dbits, &d, 8);
		unsigned int csr_now;
		__asm__ volatile("stmxcsr %0" : "=m"(csr_now));
		struct fpu_env env;
		unsigned short sw;
		__asm__ volatile("fnstsw %0" : "=m"(sw));
		__asm__ volatile("fnstenv %0" : "=m"(env));
		__asm__ volatile("fldenv %0" : : "m"(env));
		log_bits("a", round, a);
		log_bits("b", round, b);
		log_bits("c", round, c);
		log_bits("s", round, s);
		rtcr_printf("%d fpu sw %x env %x %x %x %x %x\n", round, sw, env.control,
		            env.status, env.tag & 0xffff, env.ip, env.dp);
		rtcr_printf("%d sse %lx mxcsr %x\n", round, dbits, csr_now);
		__asm__ volatile("fnclex");
	}
	return 0;
}
