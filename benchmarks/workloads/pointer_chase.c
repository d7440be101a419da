/*
 * pointer_chase -- follow a randomly permuted linked cycle of nodes.
 *
 * NODES 64-byte nodes form one random cycle; every step reads a node and
 * jumps to the next, and every 64th step bumps a counter in the node it
 * is on: reads everywhere, writes scattered and rare.
 */
#include <rtcr.h>

#ifndef NODES
#define NODES (1UL << 15)
#endif
#ifndef STEPS
#define STEPS 3000000UL
#endif

struct node {
	struct node *next;
	uint64_t value;
	uint64_t visits;
	uint64_t pad[5];
};

static struct node nodes[NODES];
static uint32_t order[NODES];

int main(void)
{
	uint64_t state = 4242;
	for (unsigned long i = 0; i < NODES; i++)
		order[i] = (uint32_t)i;
	for (unsigned long i = NODES - 1; i > 0; i--) {
		unsigned long j = rtcr_xorshift64(&state) % (i + 1);
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned long i = 0; i < NODES; i++) {
		nodes[order[i]].next = &nodes[order[(i + 1) % NODES]];
		nodes[order[i]].value = i;
	}
	struct node *n = &nodes[order[0]];
	uint64_t sum = 0;
	for (unsigned long s = 0; s < STEPS; s++) {
		sum += n->value;
		if ((s & 63) == 0)
			n->visits++;
		n = n->next;
	}
	rtcr_printf("pointer_chase: %lu nodes x %lu steps, checksum %lx\n",
	            (unsigned long)NODES, (unsigned long)STEPS, (unsigned long)sum);
	return 0;
}
