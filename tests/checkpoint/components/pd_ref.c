/*
 * pd_ref -- the component's own PD gets a reference account.
 *
 * Test workload for the PD state of a checkpoint: a PD session takes the
 * component's PD as its reference account, then the component's PD takes
 * that session as its own (a cycle Genode allows). A reference account is
 * set once: the later call naming another, unaccounted session changes
 * nothing and succeeds -- unless a restore lost the first one, when it is
 * refused (the second session has no account to refer to). Checkpoints
 * fall in the computing between.
 */
#include <rtcr.h>

int main(void)
{
	long me = rtcr_pd_self();
	long session = rtcr_pd_create("session");
	long other = rtcr_pd_create("other");
	rtcr_printf("session takes me: %ld\n", rtcr_pd_ref_account(session, me));
	rtcr_printf("I take the session: %ld\n", rtcr_pd_ref_account(me, session));
	unsigned long acc = 1;
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 20000; i++)
			acc = acc * 6364136223846793005UL + 1442695040888963407UL;
		rtcr_printf("round %d: naming another changes nothing: %ld (%lx)\n", round,
		            rtcr_pd_ref_account(me, other), acc & 0xffff);
	}
	return 0;
}
