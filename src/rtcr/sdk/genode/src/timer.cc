/*
 * The timer in virtual time; signal timeouts through a helper thread.
 */
#include <timer_session/connection.h>
#include <base/log.h>
#include <rtcr/genode.h>

using namespace Genode;

namespace {
	constexpr uint64_t MAX_SLEEP_US = (1ULL << 40) - 1;   /* RTCR_SLEEP_MAX_US */

	void sleep_us(uint64_t us)
	{
		while (us) {
			uint64_t step = us < MAX_SLEEP_US ? us : MAX_SLEEP_US;
			rtcr_sleep_us(step);
			us -= step;
		}
	}
}

void Timer::Connection::usleep(uint64_t us) { sleep_us(us); }

uint64_t Timer::Connection::elapsed_us() { return rtcr_time_us(); }

void Timer::Connection::_helper_entry(void *arg)
{
	Connection &timer = *static_cast<Connection *>(arg);
	uint64_t const first = timer._first_us, period = timer._period_us;
	Signal_context_capability const sigh = timer._sigh;
	sleep_us(first);
	for (;;) {
		rtcr_signal_submit(sigh.selector());
		if (!period)
			break;
		sleep_us(period);
	}
	rtcr_thread_exit();
}

void Timer::Connection::_stop_helper()
{
	if (_helper)
		rtcr_thread_kill(_helper);   /* fails harmlessly when it has ended already */
	_helper = 0;
}

void Timer::Connection::_start_helper(uint64_t first_us, uint64_t period_us)
{
	_stop_helper();
	_first_us = first_us;
	_period_us = period_us;
	long tid = rtcr_thread_create(_helper_entry, this, 0);
	if (tid < 0)
		error("timer: cannot start the timeout thread (error ", -tid, ")");
	else
		_helper = tid;
}

void Timer::Connection::trigger_once(uint64_t us) { _start_helper(us, 0); }

void Timer::Connection::trigger_periodic(uint64_t us) { _start_helper(us, us); }
