/*
 * base/child.h: a parent starts itself as a child through Child and a
 * Child_policy (parent services in a Registry, allocated from a Heap), the
 * policy's init pays the child's quota and handles its address-space
 * and stack-area faults, and the child's ROM requests take the policy's
 * routes.  The role
 * comes from the quota, as in Genode's rm_fault test.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_ram_dataspace.h>
#include <base/attached_rom_dataspace.h>
#include <rtcr.h>

#include "quota_policy.h"

using namespace Genode;

enum { MANAGED_ADDR = 0x28000000, CHILD_RAM = 1024 * 1024 };

struct Policy : Test::Quota_policy
{
	using Parent_service  = Registered<Genode::Parent_service>;
	using Parent_services = Registry<Parent_service>;

	Parent_services          &services;
	Signal_context_capability fault_sigh;
	Signal_context_capability stack_sigh;
	Pd_session_capability     pd_cap { };
	Capability<Region_map>    space { };
	Capability<Region_map>    stacks { };

	Policy(Env &env, Parent_services &services, Signal_context_capability fault_sigh,
	       Signal_context_capability stack_sigh)
	: Quota_policy(env, "child_policy", Ram_quota { CHILD_RAM }, Cap_quota { 30 }),
	  services(services), fault_sigh(fault_sigh), stack_sigh(stack_sigh) { }

	Name name() const override { return "worker"; }

	void init(Pd_session &pd, Pd_session_capability cap) override
	{
		Quota_policy::init(pd, cap);
		space = pd.address_space();
		Region_map_client(space).fault_handler(fault_sigh);
		stacks = pd.stack_area();
		Region_map_client(stacks).fault_handler(stack_sigh);
		pd_cap = cap;
		log("parent: policy init for PD of ", name(), ", quota now ", pd.ram_quota().value);
	}

	void _with_route(Service::Name const &name, Session_label const &label,
	                 With_route::Ft const &fn, With_no_route::Ft const &denied) override
	{
		Service *found = nullptr;
		services.for_each([&] (Service &s) { if (!found && s.name() == name) found = &s; });
		log("parent: route ", name, " \"", label, "\" ", found ? "to the parent" : "denied");
		if (found) fn(Route { .service = *found, .label = label }); else denied();
	}
};

struct Parent_role
{
	Env &env;
	Heap heap { env.ram(), env.rm() };
	Policy::Parent_services services { };
	Signal_handler<Parent_role> fault  { env.ep(), *this, &Parent_role::handle_fault };
	Signal_handler<Parent_role> answer { env.ep(), *this, &Parent_role::handle_answer };
	Signal_handler<Parent_role> stack_fault { env.ep(), *this, &Parent_role::handle_stack_fault };
	Attached_ram_dataspace shared { env.ram(), env.rm(), 4096 };
	Policy policy { env, (add_services(), services), fault, stack_fault };
	Child child { env.rm(), env.ep().rpc_ep(), policy };

	int add_services()
	{
		static char const *names[] = { "PD", "CPU", "ROM", "LOG" };
		for (char const *name : names)
			new (heap) Policy::Parent_service(services, env, name);
		return 0;
	}

	long volatile *words() { return shared.local_addr<long volatile>(); }

	void handle_fault()
	{
		Region_map_client space { policy.space };
		Region_map::Fault const f = space.fault();
		log("parent: ", child.name(), " faults at ", Hex(f.addr));
		words()[0] = 0x77;
		words()[1] = rtcr_cap_delegate(policy.pd_cap.selector(),
		                               Signal_context_capability(answer).selector());
		if (space.attach(shared.cap(), { .size = { }, .offset = { }, .use_at = true,
		                                 .at = f.addr & ~0xfffUL, .executable = { },
		                                 .writeable = true }).failed())
			error("parent: attach failed");
	}

	void handle_answer() { log("parent: child answered ", Hex(words()[2])); }

	void handle_stack_fault()
	{
		Region_map::Fault const f = Region_map_client(policy.stacks).fault();
		log("parent: stack-area fault: ",
		    f.type == Region_map::Fault::Type::EXEC ? "EXEC" : "other",
		    " in the stack area: ", f.addr < 0x10000000UL);
		services.for_each([&] (Policy::Parent_service &s) { destroy(heap, &s); });
		unsigned left = 0;
		services.for_each([&] (Policy::Parent_service &) { left++; });
		log("parent: services destroyed, ", left, " left, heap holds ", heap.consumed());
		env.parent().exit(0);
	}

	Parent_role(Env &env) : env(env)
	{
		log("parent: child active: ", child.active(), " label element: ",
		    Session_label("init -> parent -> config").last_element());
	}
};

static void child_role(Env &env)
{
	Attached_rom_dataspace config { env, "config" };
	log("child: config ", config.node().attribute_value("word", String<16>("?")));
	long volatile *words = (long volatile *)MANAGED_ADDR;
	long const value = words[0];
	log("child: read ", Hex(value));
	words[2] = value + 1;
	rtcr_signal_submit(words[1]);

	/* run code on the own stack: not executable, the stack area's handler hears of it */
	unsigned long code = 0x0b0f9090;   /* nop, nop, ud2 */
	((void (*)())(void *)&code)();
}

void Component::construct(Env &env)
{
	if (env.pd().avail_ram().value > 2 * CHILD_RAM)
		static Parent_role parent(env);
	else
		child_role(env);
}
