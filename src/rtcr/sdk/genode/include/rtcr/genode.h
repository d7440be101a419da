/*
 * The part of the rtcr SDK that rtcr's Genode API is built on.
 *
 * The Genode headers do not include <rtcr.h>: a Genode component sees only
 * Genode's names (Genode::strcmp, Genode::memcpy, ...), never the SDK's
 * libc in the global namespace, exactly as on Genode.  These declarations
 * repeat the few SDK functions the API calls; they are the same C
 * functions rtcr.h declares, so both headers may be included together.
 */
#ifndef _RTCR_SDK__RTCR__GENODE_H_
#define _RTCR_SDK__RTCR__GENODE_H_

extern "C" {
	void  rtcr_exit(int code) __attribute__((noreturn));
	long  rtcr_log_n(const char *text, unsigned long len);
	long  rtcr_ram_alloc(unsigned long size);
	long  rtcr_ram_free(long ds);
	long  rtcr_ram_seal_flags(long ds, unsigned flags);
	long  rtcr_ds_size(long ds);
	long  rtcr_ds_writeable(long ds);
	long  rtcr_rm_create(unsigned long size);
	long  rtcr_rm_destroy(long rm);
	long  rtcr_rm_dataspace(long rm);
	long  rtcr_rom_open(const char *name);
	long  rtcr_attach(long rm, long ds, unsigned long size, unsigned long offset,
	                  long at, unsigned flags);
	long  rtcr_detach(long rm, unsigned long at);
	long  rtcr_fault_handler(long rm, long sigctx);
	struct rtcr_fault;
	long  rtcr_fault(long rm, struct rtcr_fault *f);
	long  rtcr_signal_submit(long ctx);
	long  rtcr_signal_receiver(void);
	long  rtcr_signal_context_at(long receiver);
	long  rtcr_signal_wait_at(long receiver);
	long  rtcr_thread_create(void (*entry)(void *), void *arg, unsigned long stack_size);
	long  rtcr_thread_create_named(void (*entry)(void *), void *arg, unsigned long stack_size,
	                               const char *name);
	long  rtcr_thread_join(long tid);
	void  rtcr_thread_exit(void) __attribute__((noreturn));
	long  rtcr_thread_self(void);
	long  rtcr_thread_kill(long tid);
	void **rtcr_thread_words(void);
	unsigned long rtcr_time_us(void);
	long  rtcr_sleep_us(unsigned long us);
	void  rtcr_yield(void);
	long  rtcr_ram_avail(void);
	long  rtcr_caps_avail(void);
	long  rtcr_pd_create(const char *label);
	long  rtcr_pd_self(void);
	long  rtcr_pd_ref_account(long pd, long ref);
	long  rtcr_pd_transfer(long from, long to, unsigned long amount, unsigned kind);
	long  rtcr_pd_ram_alloc(long pd, unsigned long size);
	long  rtcr_pd_ram_free(long pd, long ds);
	long  rtcr_pd_ram_seal(long pd, long ds, unsigned flags);
	long  rtcr_pd_ram_size(long pd, long ds);
	long  rtcr_pd_quota(long pd, unsigned which);
	long  rtcr_signal_free(long ctx);
	long  rtcr_pd_address_space(long pd);
	long  rtcr_pd_stack_area(long pd);
	long  rtcr_child_start(long pd, long binary, const char *name, long exit_ctx);
	long  rtcr_child_exit_value(long pd);
	void *malloc(unsigned long size);
	void  free(void *ptr);
}

namespace Rtcr {

	/* The numbers of rtcr.h (checked against rtcr/abi.py by the SDK tests). */
	enum : long {
		ADDRESS_SPACE = 1, ANYWHERE = -1, ATTACH_W = 1, ATTACH_X = 2,
		EINVAL = 1, ECAP = 2, EFAULT = 3, ENORAM = 4, ENOCAPS = 5, ECONFLICT = 6,
		EDENIED = 7, EINVALDS = 8, ENOREGION = 9, ENESTING = 10,
		FAULT_NONE = 0, FAULT_READ = 1, FAULT_WRITE = 2, FAULT_EXEC = 3,
		THREAD_WORD_GENODE = 2, SEAL_REVOKE = 1,
		QUOTA_RAM = 0, QUOTA_CAPS = 1,
		PD_RAM_LIMIT = 0, PD_RAM_USED = 1, PD_CAPS_LIMIT = 2, PD_CAPS_USED = 3,
	};

	struct Fault_record { long type; unsigned long addr; };

	/* A spin lock that yields the CPU while it waits (deterministic). */
	struct Yield_lock
	{
		int _held = 0;
		void lock()   { while (__atomic_exchange_n(&_held, 1, __ATOMIC_ACQUIRE)) rtcr_yield(); }
		void unlock() { __atomic_store_n(&_held, 0, __ATOMIC_RELEASE); }
		struct Guard
		{
			Yield_lock &_l;
			Guard(Yield_lock &l) : _l(l) { _l.lock(); }
			~Guard() { _l.unlock(); }
		};
	};
}

#endif /* _RTCR_SDK__RTCR__GENODE_H_ */
