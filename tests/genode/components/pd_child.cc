/*
 * A parent that starts a child from its own binary in a new PD and acts as
 * the pager of the child's address space: the child's read of an address
 * nothing is attached at faults, the parent's handler attaches shared RAM
 * there, the child continues, answers through that RAM and submits a
 * signal context the parent delegated to the child's PD.  The role comes
 * from the quota, as in Genode's rm_fault test: the child gets 1 MiB.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_ram_dataspace.h>
#include <pd_session/connection.h>
#include <region_map/client.h>
#include <rom_session/connection.h>
#include <rtcr.h>

using namespace Genode;

enum { MANAGED_ADDR = 0x18000000, CHILD_RAM = 1024 * 1024, QUESTION = 0x1234 };

struct Parent_role
{
	Env &env;
	Pd_connection pd { env, "child" };
	Region_map_client space { (pd.ref_account(env.pd_session_cap()),
	                           (void)env.pd().transfer_quota(pd.cap(), Ram_quota { CHILD_RAM }),
	                           (void)env.pd().transfer_quota(pd.cap(), Cap_quota { 40 }),
	                           pd.address_space()) };
	Attached_ram_dataspace shared { env.ram(), env.rm(), 4096 };
	Signal_handler<Parent_role> fault { env.ep(), *this, &Parent_role::handle_fault };
	Signal_handler<Parent_role> answer { env.ep(), *this, &Parent_role::handle_answer };
	Rom_connection binary { env, "pd_child" };

	long volatile *words() { return shared.local_addr<long volatile>(); }

	void handle_fault()
	{
		Region_map::Fault const f = space.fault();
		log("parent: child faults: ",
		    f.type == Region_map::Fault::Type::READ ? "READ" : "other", " at ", Hex(f.addr));
		space.attach(shared.cap(), { .size = { }, .offset = { }, .use_at = true,
		                             .at = f.addr & ~0xfffUL, .executable = { },
		                             .writeable = true }).with_result(
			[&] (Region_map::Range) { log("parent: attached shared RAM there"); },
			[&] (Region_map::Attach_error) { error("parent: attach failed"); });
	}

	void handle_answer()
	{
		log("parent: child answered ", Hex(words()[2]));
		env.parent().exit(0);
	}

	Parent_role(Env &env) : env(env)
	{
		space.fault_handler(fault);
		words()[0] = QUESTION;
		/* the child's selector of our context, handed over in the shared RAM */
		words()[1] = rtcr_cap_delegate(pd.cap().selector(),
		                               Signal_context_capability(answer).selector());
		/* and the child's selector of the shared RAM itself, which it may not free */
		words()[3] = rtcr_cap_delegate(pd.cap().selector(), shared.cap().selector());
		long const started = rtcr_child_start(pd.cap().selector(),
		                                      binary.dataspace().selector(), "pager-child", -1);
		log("parent: child started: ", started == 0);
		log("parent: the child's address space cannot be destroyed: ",
		    rtcr_rm_destroy(pd.address_space().selector()) == -RTCR_EDENIED);
	}
};

static void child_role()
{
	log("child: reading ", Hex((unsigned long)MANAGED_ADDR));
	long volatile *words = (long volatile *)MANAGED_ADDR;
	long const question = words[0];
	log("child: read ", Hex(question));
	long const freed = rtcr_ram_free(words[3]);
	log("child: freeing its parent's RAM: ", freed == -RTCR_EDENIED ? "denied" : "allowed");
	words[2] = question + 1;
	rtcr_signal_submit(words[1]);
}

void Component::construct(Env &env)
{
	if (env.pd().avail_ram().value > 2 * CHILD_RAM)
		static Parent_role parent(env);
	else
		child_role();
}
