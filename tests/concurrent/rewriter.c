/* Test workload for concurrent checkpoints: a buffer of PAGES pages, every
 * round writes a round-specific pattern into every STRIDE-th page, so that
 * the pages dirty in one interval are rewritten in the next -- while a
 * concurrent checkpoint may still be copying them. Every FREE_EVERY rounds a
 * scratch dataspace is allocated, written and freed, to exercise freeing RAM
 * while a copy is in flight. */
#include <rtcr.h>

#ifndef PAGES
#define PAGES 512
#endif
#ifndef ROUNDS
#define ROUNDS 24
#endif
#ifndef STRIDE
#define STRIDE 1
#endif
#define FREE_EVERY 4

static unsigned long checksum(const unsigned long *buf, unsigned long words)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < words; i++)
        sum = sum * 31 + buf[i];
    return sum;
}

int main(void)
{
    long ds = rtcr_ram_alloc(PAGES * 4096UL);
    unsigned long *buf = (unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, -1, RTCR_W);
    for (unsigned long round = 1; round <= ROUNDS; round++) {
        for (unsigned long page = 0; page < PAGES; page += STRIDE)
            for (unsigned long word = 0; word < 512; word += 64)
                buf[page * 512 + word] = round * 1000003UL + page * 7 + word;
        if (round % FREE_EVERY == 0) {
            long scratch = rtcr_ram_alloc(16 * 4096UL);
            unsigned char *s = (unsigned char *)rtcr_attach(RTCR_ADDRESS_SPACE, scratch, 0, 0,
                                                            -1, RTCR_W);
            for (int i = 0; i < 16 * 4096; i += 512)
                s[i] = (unsigned char)(round + i);
            rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)s);
            rtcr_ram_free(scratch);
        }
        rtcr_printf("round %lu checksum %lx\n", round, checksum(buf, PAGES * 512UL));
    }
    return 0;
}
