/*
 * Threads of the Genode API: subclass Thread, implement entry(), start().
 *
 * Each Thread is a machine thread of the component (rtcr_thread_create).
 * Thread::myself() finds the caller's Thread object through the SDK's
 * per-thread words (no TLS); for the main thread it is the component's
 * main Thread object.  Destroying a started Thread that has not finished
 * kills it (rtcr_thread_kill).
 */
#ifndef _RTCR_SDK__BASE__THREAD_H_
#define _RTCR_SDK__BASE__THREAD_H_

#include <base/affinity.h>
#include <base/exception.h>
#include <cpu_session/cpu_session.h>

namespace Genode {
	class Thread;
	class Env;
	struct Startup;
}

class Genode::Thread
{
	public:

		using Location = Affinity::Location;
		using Name     = Cpu_session::Name;

		enum class Stack_error { STACK_AREA_EXHAUSTED, STACK_TOO_LARGE };

		struct Stack_size { size_t num_bytes; };

		Name const name;

		enum class Start_result { OK, DENIED };

	private:

		size_t const _stack_size;
		long _tid = 0;            /* 0: not started */
		bool _finished = false;   /* entry() returned */

		static void _trampoline(void *);

		Thread(Thread const &) = delete;
		Thread &operator = (Thread const &) = delete;

	protected:

		friend struct Startup;
		struct Main { };
		Thread(Main);   /* the component's main thread */

	public:

		Thread(Env &env, Name const &name, Stack_size size, Location location = { });
		Thread(Env &env, Name const &name, size_t stack_size, Location location = { });
		Thread(Env &env, Name const &name, size_t stack_size, Location location,
		       int /* weight */, void * /* cpu */);

		virtual ~Thread();

		virtual void entry() = 0;

		virtual Start_result start();

		/* Wait until entry() returned. */
		void join();

		/* The Thread object of the caller (the main thread's too). */
		static Thread *myself();

		long tid() const { return _tid; }   /* rtcr: the machine's thread id */

		size_t stack_size() const { return _stack_size; }
};

#endif /* _RTCR_SDK__BASE__THREAD_H_ */
