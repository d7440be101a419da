/*
 * A worker writes through a read-only attachment: core stops it with a
 * fault report naming the thread (no handler is installed), while the main
 * thread carries on, tells which dataspaces are writeable, and exits.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/thread.h>
#include <dataspace/client.h>
#include <region_map/client.h>
#include <rm_session/connection.h>
#include <rom_session/connection.h>
#include <timer_session/connection.h>

using namespace Genode;

struct Writer : Thread
{
	char *target;
	Writer(Env &env, char *target) : Thread(env, "writer", 16 * 1024), target(target) { }
	void entry() override
	{
		log("writer writes");
		*(volatile char *)target = 1;
		log("the write went through");
	}
};

struct Main
{
	Env &env;
	Timer::Connection timer { env };
	char *read_only = nullptr;

	Main(Env &env) : env(env)
	{
		Ram_dataspace_capability ds = env.ram().alloc(4096);
		env.rm().attach(ds, { .size = { }, .offset = { }, .use_at = { }, .at = { },
		                      .executable = { }, .writeable = false }).with_result(
			[&] (Env::Local_rm::Attachment &a) {
				a.deallocate = false;
				read_only = (char *)a.ptr;
			},
			[&] (Env::Local_rm::Error) { error("attach failed"); });
		static Writer writer { env, read_only };
		writer.start();
		timer.msleep(100);
		Rm_connection rm { env };
		Rom_connection rom { env, "config" };
		Region_map_client managed { rm.create(4096) };
		log("writeable: RAM ", Dataspace_client(ds).writeable(),
		    ", region map ", Dataspace_client(managed.dataspace()).writeable(),
		    ", ROM ", Dataspace_client(rom.dataspace()).writeable());
		log("--- main goes on ---");
		env.parent().exit(0);
	}
};

void Component::construct(Env &env) { static Main main(env); }
