/*
 * life -- Conway's game of life on a 128x128 torus for 100 generations.
 *
 * Demonstrates: a steady, moderate write rate over a small working set
 * (two 16 KiB grids in .bss, swapped every generation).  About 50 M
 * instructions.
 *
 * The start grid is random (xorshift64, seed 7, ~1/4 of the cells alive)
 * with a glider added at the top left.  The population is logged at
 * generation 0 and every 10 generations, then a checksum of the final
 * grid.
 *
 * Expected output (13 lines; see expected/life.txt):
 *   [life] generation 0 population N
 *   [life] generation 10 population N
 *   ...
 *   [life] generation 100 population N
 *   [life] final checksum 0x...
 *   [life] life done
 * exit status 0
 */
#include <rtcr.h>

#define W 128
#define H 128
#define GENERATIONS 100

static uint8_t grid[2][H][W];

static unsigned long population(uint8_t (*g)[W])
{
	unsigned long n = 0;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			n += g[y][x];
	return n;
}

static void step(uint8_t (*src)[W], uint8_t (*dst)[W])
{
	for (int y = 0; y < H; y++) {
		const uint8_t *up = src[(y + H - 1) % H];
		const uint8_t *mid = src[y];
		const uint8_t *down = src[(y + 1) % H];
		for (int x = 0; x < W; x++) {
			int l = (x + W - 1) % W, r = (x + 1) % W;
			int n = up[l] + up[x] + up[r] + mid[l] + mid[r] + down[l] + down[x] + down[r];
			dst[y][x] = (uint8_t)(n == 3 || (n == 2 && mid[x]));
		}
	}
}

int main(void)
{
	uint64_t rng = 7;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			grid[0][y][x] = (rtcr_xorshift64(&rng) & 3) == 0;
	/* a glider */
	static const int glider[5][2] = { { 0, 1 }, { 1, 2 }, { 2, 0 }, { 2, 1 }, { 2, 2 } };
	for (int i = 0; i < 5; i++)
		grid[0][1 + glider[i][0]][1 + glider[i][1]] = 1;

	int cur = 0;
	for (int gen = 0; gen <= GENERATIONS; gen++) {
		if (gen % 10 == 0)
			rtcr_printf("generation %d population %lu\n", gen, population(grid[cur]));
		if (gen == GENERATIONS)
			break;
		step(grid[cur], grid[cur ^ 1]);
		cur ^= 1;
	}
	uint64_t h = 0;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			h = (h ^ grid[cur][y][x]) * 0x100000001B3ULL;
	rtcr_printf("final checksum 0x%016llx\n", (unsigned long long)h);
	rtcr_printf("life done\n");
	return 0;
}
