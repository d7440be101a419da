/* System call wrappers of the rtcr SDK (see rtcr.h for the ABI). */
#include <rtcr.h>

extern void _rtcr_thread_trampoline(void);
extern void _rtcr_flush_on_exit(void);
extern void _rtcr_release_thread_words(long tid);
extern int _rtcr_thread_words_claimed(void);

void rtcr_exit(int code)
{
	_rtcr_flush_on_exit();
	for (;;)
		rtcr_syscall1(RTCR_SYS_EXIT, code);
}

long rtcr_log_n(const char *text, unsigned long len)
{
	return rtcr_syscall2(RTCR_SYS_LOG, (long)text, (long)len);
}

void rtcr_log(const char *line)
{
	rtcr_log_n(line, strlen(line));
}

long rtcr_ram_alloc(unsigned long size)
{
	return rtcr_syscall1(RTCR_SYS_RAM_ALLOC, (long)size);
}

long rtcr_ram_free(long ds)
{
	return rtcr_syscall1(RTCR_SYS_RAM_FREE, ds);
}

long rtcr_ram_seal(long ds)
{
	return rtcr_syscall2(RTCR_SYS_RAM_SEAL, ds, 0);
}

long rtcr_ram_seal_flags(long ds, unsigned flags)
{
	return rtcr_syscall2(RTCR_SYS_RAM_SEAL, ds, (long)flags);
}

long rtcr_ds_size(long ds)
{
	return rtcr_syscall1(RTCR_SYS_DS_SIZE, ds);
}

long rtcr_rm_destroy(long rm)
{
	return rtcr_syscall1(RTCR_SYS_RM_DESTROY, rm);
}

long rtcr_rom_open(const char *name)
{
	return rtcr_syscall2(RTCR_SYS_ROM_OPEN, (long)name, (long)strlen(name));
}

long rtcr_pd_create(const char *label)
{
	return rtcr_syscall2(RTCR_SYS_PD_CREATE, (long)label, (long)strlen(label));
}

long rtcr_pd_self(void)
{
	return rtcr_syscall0(RTCR_SYS_PD_SELF);
}

long rtcr_pd_ref_account(long pd, long ref)
{
	return rtcr_syscall2(RTCR_SYS_PD_REF_ACCOUNT, pd, ref);
}

long rtcr_pd_transfer(long from, long to, unsigned long amount, unsigned kind)
{
	return rtcr_syscall4(RTCR_SYS_PD_TRANSFER, from, to, (long)amount, (long)kind);
}

long rtcr_pd_ram_alloc(long pd, unsigned long size)
{
	return rtcr_syscall2(RTCR_SYS_PD_RAM_ALLOC, pd, (long)size);
}

long rtcr_pd_ram_free(long pd, long ds)
{
	return rtcr_syscall2(RTCR_SYS_PD_RAM_FREE, pd, ds);
}

long rtcr_pd_ram_seal(long pd, long ds, unsigned flags)
{
	return rtcr_syscall3(RTCR_SYS_PD_RAM_SEAL, pd, ds, (long)flags);
}

long rtcr_pd_ram_size(long pd, long ds)
{
	return rtcr_syscall2(RTCR_SYS_PD_RAM_SIZE, pd, ds);
}

long rtcr_pd_quota(long pd, unsigned which)
{
	return rtcr_syscall2(RTCR_SYS_PD_QUOTA, pd, (long)which);
}

long rtcr_cap_delegate(long pd, long cap)
{
	return rtcr_syscall2(RTCR_SYS_CAP_DELEGATE, pd, cap);
}

long rtcr_signal_free(long ctx)
{
	return rtcr_syscall1(RTCR_SYS_SIGNAL_FREE, ctx);
}

long rtcr_pd_address_space(long pd)
{
	return rtcr_syscall1(RTCR_SYS_PD_ADDRESS_SPACE, pd);
}

long rtcr_pd_stack_area(long pd)
{
	return rtcr_syscall1(RTCR_SYS_PD_STACK_AREA, pd);
}

long rtcr_child_start(long pd, long binary, const char *name, long exit_ctx)
{
	return rtcr_syscall5(RTCR_SYS_CHILD_START, pd, binary, (long)name, (long)strlen(name),
	                     exit_ctx);
}

long rtcr_child_exit_value(long pd)
{
	return rtcr_syscall1(RTCR_SYS_CHILD_EXIT_VALUE, pd);
}

long rtcr_announce(const char *name, long cap)
{
	return rtcr_syscall3(RTCR_SYS_ANNOUNCE, (long)name, (long)strlen(name), cap);
}

long rtcr_request(const char *name)
{
	return rtcr_syscall2(RTCR_SYS_REQUEST, (long)name, (long)strlen(name));
}

long rtcr_rm_create(unsigned long size)
{
	return rtcr_syscall1(RTCR_SYS_RM_CREATE, (long)size);
}

long rtcr_rm_dataspace(long rm)
{
	return rtcr_syscall1(RTCR_SYS_RM_DATASPACE, rm);
}

long rtcr_attach(long rm, long ds, unsigned long size, unsigned long offset,
                 long at, unsigned flags)
{
	return rtcr_syscall6(RTCR_SYS_ATTACH, rm, ds, (long)size, (long)offset, at,
	                     (long)flags);
}

long rtcr_detach(long rm, unsigned long at)
{
	return rtcr_syscall2(RTCR_SYS_DETACH, rm, (long)at);
}

long rtcr_fault_handler(long rm, long sigctx)
{
	return rtcr_syscall2(RTCR_SYS_FAULT_HANDLER, rm, sigctx);
}

long rtcr_fault(long rm, struct rtcr_fault *f)
{
	return rtcr_syscall2(RTCR_SYS_FAULT, rm, (long)f);
}

long rtcr_signal_context(void)
{
	return rtcr_syscall0(RTCR_SYS_SIGNAL_CONTEXT);
}

long rtcr_signal_wait(void)
{
	return rtcr_syscall0(RTCR_SYS_SIGNAL_WAIT);
}

long rtcr_signal_submit(long ctx)
{
	return rtcr_syscall1(RTCR_SYS_SIGNAL_SUBMIT, ctx);
}

long rtcr_signal_receiver(void)
{
	return rtcr_syscall0(RTCR_SYS_SIGNAL_RECEIVER);
}

long rtcr_signal_context_at(long receiver)
{
	return rtcr_syscall1(RTCR_SYS_SIGNAL_CONTEXT_AT, receiver);
}

long rtcr_signal_wait_at(long receiver)
{
	return rtcr_syscall1(RTCR_SYS_SIGNAL_WAIT_AT, receiver);
}

long rtcr_thread_create(void (*entry)(void *), void *arg, unsigned long stack_size)
{
	return rtcr_syscall4(RTCR_SYS_THREAD_CREATE, (long)&_rtcr_thread_trampoline,
	                     (long)entry, (long)arg, (long)stack_size);
}

long rtcr_thread_create_named(void (*entry)(void *), void *arg, unsigned long stack_size,
                              const char *name)
{
	return rtcr_syscall6(RTCR_SYS_THREAD_CREATE_NAMED, (long)&_rtcr_thread_trampoline,
	                     (long)entry, (long)arg, (long)stack_size, (long)name,
	                     name ? (long)strlen(name) : 0);
}

long rtcr_ds_writeable(long ds)
{
	return rtcr_syscall1(RTCR_SYS_DS_WRITEABLE, ds);
}

long rtcr_thread_join(long tid)
{
	return rtcr_syscall1(RTCR_SYS_THREAD_JOIN, tid);
}

void rtcr_thread_exit(void)
{
	if (_rtcr_thread_words_claimed())
		_rtcr_release_thread_words(rtcr_thread_self());
	for (;;)
		rtcr_syscall0(RTCR_SYS_THREAD_EXIT);
}

long rtcr_thread_kill(long tid)
{
	long ret = rtcr_syscall1(RTCR_SYS_THREAD_KILL, tid);
	if (ret == 0 && _rtcr_thread_words_claimed())
		_rtcr_release_thread_words(tid);
	return ret;
}

unsigned long rtcr_time_us(void)
{
	return (unsigned long)rtcr_syscall0(RTCR_SYS_TIME_US);
}

long rtcr_sleep_us(unsigned long us)
{
	return rtcr_syscall1(RTCR_SYS_SLEEP_US, (long)us);
}

void rtcr_yield(void)
{
	rtcr_syscall0(RTCR_SYS_YIELD);
}

long rtcr_ram_avail(void)
{
	return rtcr_syscall0(RTCR_SYS_RAM_AVAIL);
}

long rtcr_caps_avail(void)
{
	return rtcr_syscall0(RTCR_SYS_CAPS_AVAIL);
}
