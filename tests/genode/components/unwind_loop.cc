/*
 * Throws through a deep stack over and over, keeping a running sum in
 * memory: a checkpoint taken anywhere -- inside the unwinder too -- must
 * restore to the same sum and output.
 */
#include <rtcr.h>

struct Unwind { long value; };

static long frames(long n, long value)
{
	volatile long local = value + n;
	if (n == 0) throw Unwind { local };
	return frames(n - 1, value) + local;
}

long sum;

int main()
{
	for (long round = 0; round < 12; round++) {
		try { frames(12, round); } catch (Unwind const &u) { sum += u.value; }
		rtcr_printf("round %ld sum %ld\n", round, sum);
	}
	return 0;
}
