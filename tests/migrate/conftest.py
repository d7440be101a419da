"""Fixtures of the migration tests: a component whose memory no codec shrinks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# 2 MiB of random words, then 200 rounds that each rewrite a tenth of its pages with new
# random words and compute for a while: a transfer of it is as large as its memory, and
# pre-copy always finds pages written since the last round.
NOISY = r"""
#include <rtcr.h>
#define PAGES 512
#define WORDS (PAGES * 512UL)
int main(void)
{
    long ds = rtcr_ram_alloc(PAGES * 4096UL);
    unsigned long *buf = (unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, -1, RTCR_W);
    unsigned long x = 88172645463325252UL, sum = 0;
    for (unsigned long i = 0; i < WORDS; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = x;
    }
    rtcr_printf("filled\n");
    for (unsigned long round = 0; round < 200; round++) {
        for (unsigned long page = round % 10; page < PAGES; page += 10)
            for (unsigned long w = 0; w < 512; w++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                buf[page * 512 + w] = x;
            }
        for (unsigned long spin = 0; spin < 200000; spin++)
            sum += buf[(spin * 4099) % WORDS];
        if (round % 20 == 0)
            rtcr_printf("round %lu\n", round);
    }
    rtcr_printf("sum %lx\n", sum);
    return 0;
}
"""


@pytest.fixture
def noisy(compile_c: Callable[[str, str], Path]) -> Path:
    return compile_c("noisy", NOISY)
