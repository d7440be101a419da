/* Benchmark target for concurrent checkpoints: a TARGET_MB buffer; every
 * round writes one word into DIRTY_PERMILLE/1000 of its pages (evenly
 * spread), then computes for SPIN iterations over a few pages (long enough
 * for a concurrent copy to finish). One round per checkpoint interval.
 * LATER_PERMILLE (default: DIRTY_PERMILLE) is the fraction of the rounds after
 * the first (bench_lazy.py: the first writes every page, a restore follows). */
#include <rtcr.h>

#ifndef TARGET_MB
#define TARGET_MB 64
#endif
#ifndef DIRTY_PERMILLE
#define DIRTY_PERMILLE 100
#endif
#ifndef LATER_PERMILLE
#define LATER_PERMILLE DIRTY_PERMILLE
#endif
#ifndef ROUNDS
#define ROUNDS 8
#endif
#ifndef SPIN
#define SPIN 200000
#endif
#define PAGES (TARGET_MB * 256UL)

int main(void)
{
    long ds = rtcr_ram_alloc(PAGES * 4096UL);
    volatile unsigned long *buf =
        (volatile unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, -1, RTCR_W);
    unsigned long sum = 0;
    for (unsigned long round = 1; round <= ROUNDS; round++) {
        unsigned long dirty = PAGES * (round == 1 ? DIRTY_PERMILLE : LATER_PERMILLE) / 1000;
        unsigned long step = dirty ? PAGES / dirty : PAGES;
        for (unsigned long i = 0, page = round % step; i < dirty; i++, page += step)
            buf[(page % PAGES) * 512] = round + page;
        for (unsigned long spin = 0; spin < SPIN; spin++)
            sum += buf[(spin % 64) * 512];
        rtcr_printf("round %lu\n", round);
    }
    rtcr_printf("sum %lx\n", sum);
    return 0;
}
