/*
 * write_heavy -- sort N 32-bit integers again and again.
 *
 * Each round refills the array with fresh pseudo-random numbers and merge
 * sorts it through a buffer of the same size: nearly every page of both
 * arrays is written in every interval (worst case for incremental
 * checkpoints, best case for copying everything).
 */
#include <rtcr.h>

#ifndef N
#define N (1UL << 16)
#endif
#ifndef ROUNDS
#define ROUNDS 8
#endif

static uint32_t a[N];
static uint32_t b[N];

static void merge_sort(void)
{
	uint32_t *src = a, *dst = b;
	for (unsigned long width = 1; width < N; width *= 2) {
		for (unsigned long lo = 0; lo < N; lo += 2 * width) {
			unsigned long mid = lo + width < N ? lo + width : N;
			unsigned long hi = lo + 2 * width < N ? lo + 2 * width : N;
			unsigned long i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, sizeof(a));
}

int main(void)
{
	uint64_t state = 2024;
	uint64_t check = 0;
	for (unsigned long r = 0; r < ROUNDS; r++) {
		for (unsigned long i = 0; i < N; i++)
			a[i] = (uint32_t)(rtcr_xorshift64(&state) >> 32);
		merge_sort();
		for (unsigned long i = 1; i < N; i++)
			if (a[i - 1] > a[i]) {
				rtcr_printf("write_heavy: not sorted at %lu\n", i);
				return 1;
			}
		check = check * 31 + a[N / 2];
	}
	rtcr_printf("write_heavy: %lu ints x %lu rounds, checksum %lx\n",
	            (unsigned long)N, (unsigned long)ROUNDS, (unsigned long)check);
	return 0;
}
