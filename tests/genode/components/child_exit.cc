/*
 * A child's exit value reaches its parent's Child_policy::exit: the parent
 * starts itself as the child "leaver" (the role from the quota), which
 * exits with 42; a second child's policy keeps Genode's default exit(),
 * which logs the value.
 */
#include <base/component.h>
#include <base/log.h>
#include "quota_policy.h"

using namespace Genode;

enum { CHILD_RAM = 1024 * 1024 };

struct Policy : Test::Quota_policy
{
	Parent_service rom { env, "ROM" };
	Name const     _name;
	bool const     _own_exit;
	unsigned      &_exits;

	Policy(Env &env, Name const &name, bool own_exit, unsigned &exits)
	: Quota_policy(env, "child_exit", Ram_quota { CHILD_RAM }, Cap_quota { 30 }),
	  _name(name), _own_exit(own_exit), _exits(exits) { }

	Name name() const override { return _name; }

	void _with_route(Service::Name const &name, Session_label const &label,
	                 With_route::Ft const &fn, With_no_route::Ft const &denied) override
	{
		if (name == "ROM") fn(Route { .service = rom, .label = label }); else denied();
	}

	void exit(int value) override
	{
		if (_own_exit)
			log("parent: ", name(), " exited with ", value);
		else
			Child_policy::exit(value);
		if (++_exits == 2)
			env.parent().exit(0);
	}
};

struct Parent_role
{
	Env     &env;
	unsigned exits = 0;
	Policy   first  { env, "leaver", true, exits };
	Policy   second { env, "other", false, exits };
	Child    one { env.rm(), env.ep().rpc_ep(), first };
	Child    two { env.rm(), env.ep().rpc_ep(), second };

	Parent_role(Env &env) : env(env) { log("parent: both started"); }
};

void Component::construct(Env &env)
{
	if (env.pd().avail_ram().value > 3 * CHILD_RAM) {
		static Parent_role parent(env);
	} else {
		log("child: leaving");
		env.parent().exit(42);
	}
}
