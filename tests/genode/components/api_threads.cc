/*
 * base/signal.h, base/entrypoint.h, base/thread.h, timer_session,
 * base/sleep.h: handlers run on their own entrypoint, threads, timers,
 * fault handlers; the component ends idle.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/signal.h>
#include <base/entrypoint.h>
#include <base/sleep.h>
#include <base/thread.h>
#include <rm_session/connection.h>
#include <region_map/client.h>
#include <timer_session/connection.h>

using namespace Genode;

struct Worker : Thread
{
	int result = 0;
	Worker(Env &env) : Thread(env, "worker", 16 * 1024) { }
	void entry() override
	{
		result = 6 * 7;
		log("worker runs as ", Thread::myself()->name);
	}
};

struct Sleeper : Thread
{
	Sleeper(Env &env) : Thread(env, "sleeper", 16 * 1024) { }
	void entry() override { sleep_forever(); }
};

struct Side_ep : Entrypoint
{
	Side_ep(Env &env) : Entrypoint(env, 16 * 1024, "side_ep", Affinity::Location()) { }
};

struct Main
{
	Env &env;
	Timer::Connection timer { env };
	Side_ep side { env };

	unsigned ticks = 0;

	void handle_main()
	{
		log("main handler runs on ", Thread::myself()->name);
		Signal_transmitter(side_handler).submit();
	}

	void handle_side()
	{
		log("side handler runs on ", Thread::myself()->name);
		timer.trigger_periodic(250 * 1000);
	}

	void handle_tick()
	{
		ticks++;
		log("tick ", ticks, " at ", timer.elapsed_ms(), " ms");
		if (ticks == 3) {
			timer.trigger_once(10 * 1000 * 1000);   /* replaces the periodic timeout */
			fault_demo();
		}
	}

	Rm_connection rm { env };
	Region_map_client managed { rm.create(4 * 4096) };

	void handle_fault()
	{
		Region_map::Fault f = managed.fault();
		log("fault: ", f.type == Region_map::Fault::Type::WRITE ? "WRITE" : "other",
		    " at ", Hex(f.addr), " on ", Thread::myself()->name);
		managed.attach(env.ram().alloc(4096), { .size = { }, .offset = { }, .use_at = true,
		                                        .at = f.addr & ~0xfffUL, .executable = { },
		                                        .writeable = true }).with_error(
			[&] (Region_map::Attach_error) { error("resolving attach failed"); });
	}

	Signal_handler<Main> main_handler { env.ep(), *this, &Main::handle_main };
	Signal_handler<Main> side_handler { side, *this, &Main::handle_side };
	Signal_handler<Main> tick_handler { env.ep(), *this, &Main::handle_tick };
	Signal_handler<Main> fault_handler { side, *this, &Main::handle_fault };

	void fault_demo()
	{
		managed.fault_handler(fault_handler);
		char *at = nullptr;
		env.rm().attach(managed.dataspace(), { .size = { }, .offset = { }, .use_at = { },
		                                       .at = { }, .executable = { },
		                                       .writeable = true }).with_result(
			[&] (Env::Local_rm::Attachment &a) { a.deallocate = false; at = (char *)a.ptr; },
			[&] (Env::Local_rm::Error) { });
		at[2 * 4096 + 8] = 'w';   /* faults, the side entrypoint attaches RAM, retried */
		log("after the fault: ", Char(at[2 * 4096 + 8]));
		log("--- done ---");
	}

	Main(Env &env) : env(env)
	{
		Worker worker { env };
		worker.start();
		worker.join();
		log("joined worker: ", worker.result);

		{
			Sleeper sleeper { env };
			sleeper.start();
			timer.msleep(5);
		}   /* destroying a sleeping thread kills it */
		log("killed the sleeper");

		log("main thread is ", Thread::myself()->name);
		uint64_t before = timer.elapsed_ms();
		timer.msleep(100);
		log("slept ", timer.elapsed_ms() - before, " ms");

		timer.sigh(tick_handler);
		Signal_transmitter(main_handler).submit();
	}
};

void Component::construct(Env &env)
{
	static Main main(env);
}
