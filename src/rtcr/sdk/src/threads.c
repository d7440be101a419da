/*
 * Per-thread words without thread-local storage.
 *
 * The machine gives threads no TLS register (fs/gs base stay unused, so a
 * checkpoint has no hidden per-thread pointer to capture).  Instead each
 * live thread owns one slot of a table in the component's own memory, found
 * by its thread id (RTCR_SYS_THREAD_SELF).  A slot is claimed lock-free by
 * the thread itself (compare-and-swap of the tid field from 0) and released
 * when the thread exits or is killed, so the table holds at most the
 * machine's thread limit plus the slots of threads that are exiting.
 */
#include <rtcr.h>

#define SLOTS 128

struct slot {
	long tid;                           /* 0: free */
	void *words[RTCR_THREAD_WORDS];
};

static struct slot slots[SLOTS];
static int claimed;   /* slots ever claimed: without any, exits cost nothing extra */

long rtcr_thread_self(void)
{
	return rtcr_syscall0(RTCR_SYS_THREAD_SELF);
}

void **rtcr_thread_words(void)
{
	long tid = rtcr_thread_self();
	for (int i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&slots[i].tid, __ATOMIC_ACQUIRE) == tid)
			return slots[i].words;
	for (int i = 0; i < SLOTS; i++) {
		long expected = 0;
		if (__atomic_compare_exchange_n(&slots[i].tid, &expected, tid, 0,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&claimed, 1, __ATOMIC_RELEASE);
			for (int w = 0; w < RTCR_THREAD_WORDS; w++)
				slots[i].words[w] = 0;
			return slots[i].words;
		}
	}
	rtcr_log("rtcr_thread_words: more live threads than per-thread slots");
	abort();
}

int _rtcr_thread_words_claimed(void)
{
	return __atomic_load_n(&claimed, __ATOMIC_ACQUIRE);
}

void _rtcr_release_thread_words(long tid)
{
	for (int i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&slots[i].tid, __ATOMIC_ACQUIRE) == tid)
			__atomic_store_n(&slots[i].tid, 0, __ATOMIC_RELEASE);
}
