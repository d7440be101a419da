/*
 * Pd_session::seal_ram through the Genode API: an attachment made before
 * the seal goes on writing, every attach after it is read-only whatever
 * it asks for, and a write through one faults in the map that holds the
 * sealed RAM; rtcr's seal_ram_revoking also takes the write right of the
 * attachments made before.  The fault handler (on its own entrypoint)
 * puts a writable copy in place of the sealed RAM, so the write goes on.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_dataspace.h>
#include <rm_session/connection.h>
#include <region_map/client.h>
#include <pd_session/pd_session.h>

using namespace Genode;

struct Fault_ep : Entrypoint
{
	Fault_ep(Env &env) : Entrypoint(env, 16 * 1024, "fault_ep", Affinity::Location()) { }
};

struct Main
{
	enum { SIZE = 4096 };

	Env &env;
	Fault_ep fault_ep { env };

	Rm_connection     rm { env };
	Region_map_client sub { rm.create(SIZE) };

	unsigned    faults = 0;
	char const *sealed = nullptr;   /* what the copy starts as */

	Region_map::Attr at_zero() const
	{
		return { .size = { }, .offset = { }, .use_at = true, .at = 0, .executable = { },
		         .writeable = true };
	}

	void put(Ram_dataspace_capability ds)
	{
		sub.detach(0);
		if (sub.attach(ds, at_zero()).failed())
			error("attach into the sub map failed");
	}

	void handle_fault()
	{
		Region_map::Fault const f = sub.fault();
		log("fault ", ++faults, ": ",
		    f.type == Region_map::Fault::Type::WRITE ? "WRITE" : "other", " at ",
		    Hex(f.addr), " in the map holding the sealed RAM");
		Ram_dataspace_capability copy = env.ram().alloc(SIZE);
		{
			Attached_dataspace target { env.rm(), copy };
			memcpy(target.local_addr<char>(), sealed, SIZE);
		}
		put(copy);
	}

	Signal_handler<Main> fault_handler { fault_ep, *this, &Main::handle_fault };

	Main(Env &env) : env(env)
	{
		sub.fault_handler(fault_handler);
		Attached_dataspace window { env.rm(), sub.dataspace() };
		int volatile *through_sub = window.local_addr<int volatile>();

		Ram_dataspace_capability first = env.ram().alloc(SIZE);
		Attached_dataspace early { env.rm(), first };
		int *before = early.local_addr<int>();
		sealed = early.local_addr<char>();
		before[0] = 1;
		env.pd().seal_ram(first);
		before[0] = 2;
		log("attached before the seal, still writeable: ", before[0]);
		put(first);   /* asks for a writeable attach */
		log("attached after the seal, reads: ", through_sub[0]);
		through_sub[1] = 3;
		log("the write went to a copy: ", through_sub[1], ", the sealed RAM holds ",
		    before[1]);

		Ram_dataspace_capability second = env.ram().alloc(SIZE);
		put(second);
		Attached_dataspace late { env.rm(), second };
		sealed = late.local_addr<char>();
		through_sub[2] = 5;
		log("attached before a revoking seal, writeable until then: ", through_sub[2]);
		env.pd().seal_ram_revoking(second);
		log("sealed, revoking");
		through_sub[2] = 6;
		log("the write went to a copy: ", through_sub[2], ", the sealed RAM holds ",
		    late.local_addr<int>()[2]);

		log("--- done ---");
		env.parent().exit(0);
	}
};

void Component::construct(Env &env)
{
	static Main main(env);
}
