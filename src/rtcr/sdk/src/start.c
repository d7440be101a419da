/*
 * Program start and end of the rtcr SDK: static constructors, exit with
 * atexit handlers and destructors, abort.
 *
 * crt0 calls _rtcr_init before main, so constructors run for C and C++
 * components alike.  exit() runs what was registered with atexit and
 * __cxa_atexit (the compiler registers static destructors there) in
 * reverse order, then the .fini_array, then ends the component.
 */
#include <rtcr.h>

extern void (*__preinit_array_start[])(void);
extern void (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern void (*__fini_array_start[])(void);
extern void (*__fini_array_end[])(void);

/* The one "shared object" of a static component, named by __cxa_atexit callers. */
void *__dso_handle = &__dso_handle;

void _rtcr_init(void)
{
	for (void (**f)(void) = __preinit_array_start; f < __preinit_array_end; f++)
		(*f)();
	for (void (**f)(void) = __init_array_start; f < __init_array_end; f++)
		(*f)();
}

struct exit_handler {
	void (*fn)(void *);
	void *arg;
};

/*
 * A fixed table: registering happens during static initialisation, when a
 * heap allocation could itself need a constructor.  One handler per static
 * object with a destructor; 512 is far beyond what components have.
 */
static struct exit_handler handlers[RTCR_ATEXIT_MAX];
static int num_handlers;
static int exit_lock;

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
	(void)dso;
	while (__atomic_exchange_n(&exit_lock, 1, __ATOMIC_ACQUIRE))
		rtcr_yield();
	int ok = num_handlers < RTCR_ATEXIT_MAX;
	if (ok)
		handlers[num_handlers++] = (struct exit_handler){ fn, arg };
	__atomic_store_n(&exit_lock, 0, __ATOMIC_RELEASE);
	return ok ? 0 : -1;
}

static void call_plain(void *fn)
{
	((void (*)(void))fn)();
}

int atexit(void (*fn)(void))
{
	return __cxa_atexit(call_plain, (void *)fn, 0);
}

void exit(int code)
{
	/* A handler may call exit again: each one runs at most once. */
	for (;;) {
		while (__atomic_exchange_n(&exit_lock, 1, __ATOMIC_ACQUIRE))
			rtcr_yield();
		if (num_handlers == 0) {
			__atomic_store_n(&exit_lock, 0, __ATOMIC_RELEASE);
			break;
		}
		struct exit_handler h = handlers[--num_handlers];
		__atomic_store_n(&exit_lock, 0, __ATOMIC_RELEASE);
		h.fn(h.arg);
	}
	for (void (**f)(void) = __fini_array_end; f > __fini_array_start; )
		(*--f)();
	rtcr_exit(code);
}

void abort(void)
{
	rtcr_log("abort() called");
	rtcr_exit(RTCR_ABORT_EXIT_CODE);
}
