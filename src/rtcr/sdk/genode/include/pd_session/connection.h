/*
 * Connection to the PD service: a new protection domain.
 *
 * Opening it takes Pd_session::RAM_QUOTA bytes and CAP_QUOTA capabilities
 * of the component's own quota as session quota (Out_of_ram or Out_of_caps
 * if they are not there).  The new PD has no reference account: set it with
 * ref_account() before transferring quota to or from it.
 */
#ifndef _RTCR_SDK__PD_SESSION__CONNECTION_H_
#define _RTCR_SDK__PD_SESSION__CONNECTION_H_

#include <pd_session/client.h>
#include <base/connection.h>

namespace Genode { struct Pd_connection; }

struct Genode::Pd_connection : Connection<Pd_session>, Pd_session_client
{
	enum Virt_space { UNCONSTRAIN = 0, CONSTRAIN = 1 };

	static Pd_session_capability _open(char const *label);

	Pd_connection(Env &env, Label const &label = Label(), Virt_space = CONSTRAIN)
	:
		Connection<Pd_session>(env), Pd_session_client(_open(label.string()))
	{ }

	Pd_session_capability cap() const { return rpc_cap(); }
};

#endif /* _RTCR_SDK__PD_SESSION__CONNECTION_H_ */
