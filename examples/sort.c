/*
 * sort -- sort 2^18 pseudo-random 32-bit integers (1 MiB, plus a 1 MiB
 * merge buffer), verify, log checksums.
 *
 * Demonstrates: a compute-heavy phase that rewrites all of a few MB of
 * memory (.bss) on every merge pass, i.e. a worst case for incremental
 * checkpoints.  Bottom-up merge sort over insertion-sorted runs of 32;
 * about 70 M instructions.
 *
 * The data is a xorshift64 stream (seed 2024), upper 32 bits.  Before
 * sorting it logs an order-independent fingerprint (sum and xor); after
 * sorting it checks sortedness and that the fingerprint is unchanged, and
 * logs min, median, max and an order-dependent checksum.
 *
 * Expected output (see expected/sort.txt):
 *   [sort] sorting 262144 ints, sum 0x... xor 0x...
 *   [sort] sorted: min X median Y max Z checksum 0x...
 *   [sort] sort done
 * exit status 0
 */
#include <rtcr.h>

#define N (1UL << 18)
#define RUN 32

static uint32_t a[N];
static uint32_t b[N];

static void insertion_sort(uint32_t *v, unsigned long n)
{
	for (unsigned long i = 1; i < n; i++) {
		uint32_t x = v[i];
		unsigned long j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static void merge(const uint32_t *src, uint32_t *dst, unsigned long lo,
                  unsigned long mid, unsigned long hi)
{
	unsigned long i = lo, j = mid, k = lo;
	while (i < mid && j < hi)
		dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
	while (i < mid)
		dst[k++] = src[i++];
	while (j < hi)
		dst[k++] = src[j++];
}

static void fingerprint(const uint32_t *v, uint64_t *sum, uint32_t *x)
{
	uint64_t s = 0;
	uint32_t y = 0;
	for (unsigned long i = 0; i < N; i++) {
		s += v[i];
		y ^= v[i];
	}
	*sum = s;
	*x = y;
}

int main(void)
{
	uint64_t rng = 2024;
	for (unsigned long i = 0; i < N; i++)
		a[i] = (uint32_t)(rtcr_xorshift64(&rng) >> 32);

	uint64_t sum0, sum1;
	uint32_t xor0, xor1;
	fingerprint(a, &sum0, &xor0);
	rtcr_printf("sorting %lu ints, sum 0x%llx xor 0x%08x\n", N,
	            (unsigned long long)sum0, xor0);

	for (unsigned long lo = 0; lo < N; lo += RUN)
		insertion_sort(a + lo, N - lo < RUN ? N - lo : RUN);

	uint32_t *src = a, *dst = b;
	for (unsigned long width = RUN; width < N; width *= 2) {
		for (unsigned long lo = 0; lo < N; lo += 2 * width) {
			unsigned long mid = lo + width < N ? lo + width : N;
			unsigned long hi = lo + 2 * width < N ? lo + 2 * width : N;
			merge(src, dst, lo, mid, hi);
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}

	for (unsigned long i = 1; i < N; i++) {
		if (src[i - 1] > src[i]) {
			rtcr_printf("NOT SORTED at %lu: %u > %u\n", i, src[i - 1], src[i]);
			return 1;
		}
	}
	fingerprint(src, &sum1, &xor1);
	if (sum0 != sum1 || xor0 != xor1) {
		rtcr_printf("fingerprint changed: elements lost\n");
		return 1;
	}
	uint64_t h = 0;
	for (unsigned long i = 0; i < N; i++)
		h = (h ^ src[i]) * 0x100000001B3ULL;
	rtcr_printf("sorted: min %u median %u max %u checksum 0x%016llx\n", src[0],
	            src[N / 2], src[N - 1], (unsigned long long)h);
	rtcr_printf("sort done\n");
	return 0;
}
