/* System call wrappers of the rtcr SDK (see rtcr.h for the ABI). */
#include <rtcr.h>

extern void _rtcr_thread_trampoline(void);
extern void _rtcr_flush_on_exit(void);

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
	return rtcr_syscall1(RTCR_SYS_RAM_SEAL, ds);
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

long rtcr_thread_create(void (*entry)(void *), void *arg, unsigned long stack_size)
{
	return rtcr_syscall4(RTCR_SYS_THREAD_CREATE, (long)&_rtcr_thread_trampoline,
	                     (long)entry, (long)arg, (long)stack_size);
}

long rtcr_thread_join(long tid)
{
	return rtcr_syscall1(RTCR_SYS_THREAD_JOIN, tid);
}

void rtcr_thread_exit(void)
{
	for (;;)
		rtcr_syscall0(RTCR_SYS_THREAD_EXIT);
}

unsigned long rtcr_time_us(void)
{
	return (unsigned long)rtcr_syscall0(RTCR_SYS_TIME_US);
}

void rtcr_sleep_us(unsigned long us)
{
	rtcr_syscall1(RTCR_SYS_SLEEP_US, (long)us);
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
