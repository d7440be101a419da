/*
 * A sheep counter in the style of the original Genode Rtcr project's
 * targets, written against the pre-24.08 Genode API: a timer, a RAM
 * dataspace attached with env.rm().attach(ds), a counter printed every
 * round.  Checkpoint it anywhere: the restored counter goes on counting.
 */
#include <base/component.h>
#include <base/log.h>
#include <timer_session/connection.h>

void Component::construct(Genode::Env &env)
{
	Timer::Connection timer { env };

	Genode::Ram_dataspace_capability ds_cap = env.ram().alloc(4096);
	unsigned *sheep = env.rm().attach(ds_cap);

	for (sheep[0] = 1; sheep[0] <= 20; sheep[0]++) {
		Genode::log(sheep[0], " sheep. zzZ");
		timer.msleep(1000);
	}
	env.parent().exit(0);
}
