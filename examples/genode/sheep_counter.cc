/*
 * A sheep counter written against today's Genode API: the timer's signal
 * handler counts in a RAM dataspace, one sheep per second of virtual
 * time, and the component exits after twenty.
 */
#include <base/component.h>
#include <base/attached_ram_dataspace.h>
#include <base/log.h>
#include <timer_session/connection.h>

namespace Sheep_counter { struct Main; }

struct Sheep_counter::Main
{
	Genode::Env &_env;

	Timer::Connection _timer { _env };

	Genode::Attached_ram_dataspace _ram { _env.ram(), _env.rm(), 4096 };

	unsigned &_sheep = *_ram.local_addr<unsigned>();

	Genode::Signal_handler<Main> _tick { _env.ep(), *this, &Main::_handle_tick };

	void _handle_tick()
	{
		_sheep++;
		Genode::log(_sheep, " sheep. zzZ (", _timer.elapsed_ms(), " ms)");
		if (_sheep == 20)
			_env.parent().exit(0);
	}

	Main(Genode::Env &env) : _env(env)
	{
		_timer.sigh(_tick);
		_timer.trigger_periodic(1000 * 1000);
	}
};

void Component::construct(Genode::Env &env)
{
	static Sheep_counter::Main main(env);
}
