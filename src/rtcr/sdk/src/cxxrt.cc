/*
 * What GCC's C++ support libraries (libsupc++, libgcc_eh, libgcc, linked
 * from the compiler's own installation) expect from the system, for a
 * freestanding rtcr component without Linux system calls:
 *
 * - exception globals per thread (__cxa_get_globals), kept in the SDK's
 *   per-thread words instead of TLS, so that libsupc++'s TLS version is not
 *   linked and two threads throwing at once never share a caught-exception
 *   stack;
 * - static-initialisation guards that wait by yielding instead of futexes;
 * - _dl_find_object, which GCC 12's unwinder asks for the unwind tables of
 *   a code address: one static executable, one .eh_frame_hdr;
 * - a terminate handler and __cxa_pure_virtual that say what happened on
 *   the LOG before aborting;
 * - the pthread mutex pair libgcc's frame registry locks (a yield lock).
 */
#include <rtcr.h>

#include <cxxabi.h>
#include <exception>
#include <typeinfo>

namespace {

/* The layout libsupc++ (unwind-cxx.h) expects behind __cxa_get_globals. */
struct Eh_globals
{
	void    *caught_exceptions;
	unsigned uncaught_exceptions;
};

static_assert(sizeof(Eh_globals) <= 2 * sizeof(void *));

[[noreturn]] void fatal(char const *what)
{
	rtcr_log(what);
	abort();
}

} /* anonymous namespace */

/*
 * The ABI functions are defined with the declarations of <cxxabi.h>
 * (namespace __cxxabiv1, its __guard and __cxa_eh_globals types): clang
 * refuses a definition whose types differ from them, GCC does not.
 */
namespace __cxxabiv1 {

extern "C" {

__cxa_eh_globals *__cxa_get_globals_fast() noexcept
{
	return reinterpret_cast<__cxa_eh_globals *>(rtcr_thread_words() + RTCR_THREAD_WORD_EH);
}

__cxa_eh_globals *__cxa_get_globals() noexcept
{
	return __cxa_get_globals_fast();
}

/*
 * Itanium C++ ABI guard: byte 0 says "initialised" (the compiler's inline
 * fast path reads it); the upper 32 bits hold the thread id of the thread
 * running the initialiser, 0 when nobody does.
 */
static_assert(sizeof(__guard) == 2 * sizeof(uint32_t));

int __cxa_guard_acquire(__guard *guard)
{
	auto *done = reinterpret_cast<unsigned char *>(guard);
	auto *owner = reinterpret_cast<uint32_t *>(guard) + 1;
	if (__atomic_load_n(done, __ATOMIC_ACQUIRE))
		return 0;
	uint32_t const self = (uint32_t)rtcr_thread_self();
	for (;;) {
		uint32_t expected = 0;
		if (__atomic_compare_exchange_n(owner, &expected, self, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (__atomic_load_n(done, __ATOMIC_ACQUIRE)) {
				__atomic_store_n(owner, 0, __ATOMIC_RELEASE);
				return 0;
			}
			return 1;
		}
		if (expected == self)
			fatal("recursive initialisation of a function-local static");
		rtcr_yield();
		if (__atomic_load_n(done, __ATOMIC_ACQUIRE))
			return 0;
	}
}

void __cxa_guard_release(__guard *guard) noexcept
{
	__atomic_store_n(reinterpret_cast<unsigned char *>(guard), 1, __ATOMIC_RELEASE);
	__atomic_store_n(reinterpret_cast<uint32_t *>(guard) + 1, 0, __ATOMIC_RELEASE);
}

void __cxa_guard_abort(__guard *guard) noexcept
{
	__atomic_store_n(reinterpret_cast<uint32_t *>(guard) + 1, 0, __ATOMIC_RELEASE);
}

void __cxa_pure_virtual()
{
	fatal("pure virtual function called");
}

void __cxa_deleted_virtual()
{
	fatal("deleted virtual function called");
}

} /* extern "C" */

} /* namespace __cxxabiv1 */

extern "C" {

/* glibc's struct dl_find_object on x86-64 (no eh_dbase field there). */
struct dl_find_object
{
	unsigned long long dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	void *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long dlfo_reserved[7];
};

extern char __executable_start[], _end[], __eh_frame_hdr_start[], __eh_frame_hdr_end[];

int _dl_find_object(void *pc, struct dl_find_object *result)
{
	char *p = static_cast<char *>(pc);
	if (p < __executable_start || p >= _end)
		return -1;
	result->dlfo_flags = 0;
	result->dlfo_map_start = __executable_start;
	result->dlfo_map_end = _end;
	result->dlfo_link_map = nullptr;
	char *const hdr = __eh_frame_hdr_start, *const hdr_end = __eh_frame_hdr_end;
	result->dlfo_eh_frame = hdr_end > hdr ? hdr : nullptr;
	return 0;
}

/* The frame registry of libgcc_eh locks its list with these (glibc layout: int first). */
int pthread_mutex_lock(void *mutex)
{
	while (__atomic_exchange_n(static_cast<int *>(mutex), 1, __ATOMIC_ACQUIRE))
		rtcr_yield();
	return 0;
}

int pthread_mutex_unlock(void *mutex)
{
	__atomic_store_n(static_cast<int *>(mutex), 0, __ATOMIC_RELEASE);
	return 0;
}

} /* extern "C" */

/*
 * Replaces libsupc++'s verbose handler (which writes to stderr through
 * stdio): one LOG line naming the exception, then abort.
 */
namespace __gnu_cxx {

void __verbose_terminate_handler()
{
	std::type_info *type = abi::__cxa_current_exception_type();
	if (!type)
		fatal("terminate called without an active exception");
	char const *name = type->name();
	int status = -1;
	char *demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
	if (status == 0 && demangled)
		name = demangled;
	try {
		throw;
	} catch (std::exception const &e) {
		rtcr_printf("terminate called after throwing an instance of '%s': %s\n",
		            name, e.what());
	} catch (...) {
		rtcr_printf("terminate called after throwing an instance of '%s'\n", name);
	}
	abort();
}

} /* namespace __gnu_cxx */
