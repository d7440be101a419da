/*
 * Children: a component started from a ROM in a PD session of its parent.
 *
 * The Child_policy names the child and its binary, initializes its PD
 * (reference account, quota, fault handlers) and routes its session
 * requests.  On rtcr, Child opens the PD session (named after the child),
 * calls the policy's init, opens the binary's ROM through the policy's
 * route and starts the child with it; the child then opens its own
 * sessions at the machine, with its parent's ROMs.  It runs until it
 * exits (the policy's exit() hears the value) or its parent ends.
 */
#ifndef _RTCR_SDK__BASE__CHILD_H_
#define _RTCR_SDK__BASE__CHILD_H_

#include <base/rpc_server.h>
#include <base/entrypoint.h>
#include <base/heap.h>
#include <base/service.h>
#include <base/registry.h>
#include <base/id_space.h>
#include <base/quota_guard.h>
#include <base/ram_allocator.h>
#include <util/callable.h>
#include <util/reconstructible.h>
#include <region_map/client.h>
#include <pd_session/connection.h>
#include <cpu_session/cpu_session.h>
#include <rom_session/connection.h>
#include <parent/parent.h>

namespace Genode {
	struct Child_policy;
	class Child;
}

struct Genode::Child_policy
{
	using Name        = String<64>;
	using Binary_name = String<64>;
	using Linker_name = String<64>;

	virtual ~Child_policy() { }

	virtual Name name() const = 0;
	virtual Binary_name binary_name() const { return name(); }
	virtual Linker_name linker_name() const { return "ld.lib.so"; }

	struct Route
	{
		Service             &service;
		Session::Label const label;
	};

	using With_route    = Callable<void, Route const &>;
	using With_no_route = Callable<void>;

	virtual void _with_route(Service::Name const &, Session_label const &,
	                         With_route::Ft const &, With_no_route::Ft const &) = 0;

	/* Named template arguments: clang 14 deduces none for a member template's braces. */
	template <typename FN, typename DENIED_FN>
	void with_route(Service::Name const &name, Session_label const &label,
	                FN const &fn, DENIED_FN const &denied_fn)
	{
		_with_route(name, label, With_route::Fn<FN>           { fn },
		                         With_no_route::Fn<DENIED_FN> { denied_fn });
	}

	virtual void exit(int exit_value)
	{
		log("child \"", name(), "\" exited with exit value ", exit_value);
	}

	virtual Pd_account            &ref_account() = 0;
	virtual Capability<Pd_account> ref_account_cap() const = 0;
	virtual Ram_allocator         &session_md_ram() = 0;

	virtual void init(Cpu_session &, Capability<Cpu_session>) { }
	virtual void init(Pd_session &, Capability<Pd_session>) { }

	virtual Id_space<Parent::Server> &server_id_space() = 0;
};

class Genode::Child : Noncopyable
{
	public:

		using Local_rm = Local::Constrained_region_map;

	private:

		Child_policy                     &_policy;
		Constructible<Pd_session_client>  _pd { };
		bool                              _started = false;

		/* the child's exit, told to the policy (Child_policy::exit) */
		Signal_handler<Child> _exit_handler;

		void _handle_exit();
		void _start();

	public:

		Child(Local_rm &, Rpc_entrypoint &ep, Child_policy &policy)
		: _policy(policy), _exit_handler(ep.ep, *this, &Child::_handle_exit) { _start(); }

		virtual ~Child() { }

		/* Whether the child runs: its PD, binary and initial thread are there. */
		bool active() const { return _started; }

		void with_pd(auto const &fn, auto const &denied_fn)
		{
			if (_pd.constructed()) fn(static_cast<Pd_session &>(*_pd)); else denied_fn();
		}

		Child_policy::Name name() const { return _policy.name(); }
};

#endif /* _RTCR_SDK__BASE__CHILD_H_ */
