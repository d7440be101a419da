/*
 * Timer of the Genode API, in rtcr's virtual time (one nanosecond per
 * guest instruction, jumping ahead while every thread sleeps).
 *
 * msleep/usleep block the caller.  A signal handler installed with sigh()
 * gets a signal after trigger_once(us), or every `us` after
 * trigger_periodic(us): a helper thread of the connection sleeps and
 * submits it (re-triggering replaces the helper, so the newest timeout
 * counts, as on Genode).
 */
#ifndef _RTCR_SDK__TIMER_SESSION__CONNECTION_H_
#define _RTCR_SDK__TIMER_SESSION__CONNECTION_H_

#include <base/connection.h>
#include <base/signal.h>

namespace Timer {
	struct Session;
	struct Connection;
	using Genode::uint64_t;
}

struct Timer::Session : Genode::Interface
{
	static const char *service_name() { return "Timer"; }
};

struct Timer::Connection : Genode::Connection<Session>
{
	private:

		Genode::Signal_context_capability _sigh { };
		long     _helper = 0;       /* thread id of the helper, 0: none */
		uint64_t _period_us = 0;    /* 0: once */
		uint64_t _first_us = 0;

		static void _helper_entry(void *);
		void _stop_helper();
		void _start_helper(uint64_t first_us, uint64_t period_us);

	public:

		Connection(Genode::Env &env, char const * /* label */ = "")
		: Genode::Connection<Session>(env) { }

		~Connection() { _stop_helper(); }

		void usleep(uint64_t us);
		void msleep(uint64_t ms) { usleep(ms * 1000); }

		uint64_t elapsed_us();
		uint64_t elapsed_ms() { return elapsed_us() / 1000; }

		void sigh(Genode::Signal_context_capability sigh) { _sigh = sigh; }

		void trigger_once(uint64_t us);
		void trigger_periodic(uint64_t us);
};

#endif /* _RTCR_SDK__TIMER_SESSION__CONNECTION_H_ */
