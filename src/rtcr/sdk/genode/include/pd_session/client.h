/*
 * A PD session named by its capability.
 */
#ifndef _RTCR_SDK__PD_SESSION__CLIENT_H_
#define _RTCR_SDK__PD_SESSION__CLIENT_H_

#include <pd_session/capability.h>
#include <dataspace/client.h>

namespace Genode { struct Pd_session_client; }

struct Genode::Pd_session_client : Pd_session
{
	explicit Pd_session_client(Pd_session_capability session)
	: Pd_session(session.selector()) { }

	Pd_session_capability rpc_cap() const { return Pd_session_capability(_sel); }
};

#endif /* _RTCR_SDK__PD_SESSION__CLIENT_H_ */
