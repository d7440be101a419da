/*
 * The part of a Child_policy every parent among the test components
 * writes the same way: the child's binary, its session meta data from the
 * parent's own RAM, the parent's PD as its reference account, no servers
 * of the parent's own, and an init that pays the child's RAM and cap
 * quota.  A component derives its policy from Quota_policy and adds what
 * its test is about (name, routes, exit, more in init).
 */
#ifndef _TESTS__GENODE__COMPONENTS__QUOTA_POLICY_H_
#define _TESTS__GENODE__COMPONENTS__QUOTA_POLICY_H_

#include <base/child.h>

namespace Test { struct Quota_policy; }

struct Test::Quota_policy : Genode::Child_policy
{
	Genode::Env &env;

	Binary_name       const _binary;
	Genode::Ram_quota const _ram;
	Genode::Cap_quota const _caps;

	Genode::Id_space<Genode::Parent::Server> _server_ids { };

	Quota_policy(Genode::Env &env, Binary_name const &binary, Genode::Ram_quota ram,
	             Genode::Cap_quota caps)
	: env(env), _binary(binary), _ram(ram), _caps(caps) { }

	Binary_name binary_name() const override { return _binary; }

	Genode::Ram_allocator &session_md_ram() override { return env.ram(); }

	Genode::Pd_account &ref_account() override { return env.pd(); }

	Genode::Capability<Genode::Pd_account> ref_account_cap() const override
	{
		return env.pd_session_cap();
	}

	Genode::Id_space<Genode::Parent::Server> &server_id_space() override
	{
		return _server_ids;
	}

	/* Pays the quota; a policy whose init does more calls this first. */
	void init(Genode::Pd_session &pd, Genode::Pd_session_capability cap) override
	{
		pd.ref_account(env.pd_session_cap());
		(void)env.pd().transfer_quota(cap, _ram);
		(void)env.pd().transfer_quota(cap, _caps);
	}
};

#endif /* _TESTS__GENODE__COMPONENTS__QUOTA_POLICY_H_ */
