/* A 1 GiB component: 15 RAM dataspaces of 64 MiB, every page written once, then
 * three rounds writing 6 % of the pages. For the resident-memory bound of a large
 * target (tests/checkpoint/test_cr_large_target.py, benchmarks/bench_large_target.py). */
#include <rtcr.h>
#define CHUNK (64UL << 20)
#define CHUNKS 15
int main(void)
{
    unsigned long *chunk[CHUNKS];
    for (int c = 0; c < CHUNKS; c++) {
        long ds = rtcr_ram_alloc(CHUNK);
        chunk[c] = (unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, -1, RTCR_W);
        for (unsigned long p = 0; p < CHUNK / 4096; p++)
            chunk[c][p * 512] = c * 100000 + p;          /* every page differs */
    }
    unsigned long sum = 0;
    for (int round = 1; round <= 3; round++)
        for (int c = 0; c < CHUNKS; c++)
            for (unsigned long p = round; p < CHUNK / 4096; p += 16) {
                chunk[c][p * 512 + 1] = round;           /* 6 % of the pages per round */
                sum += chunk[c][p * 512];
            }
    rtcr_printf("sum %lu\n", sum);
    return 0;
}
