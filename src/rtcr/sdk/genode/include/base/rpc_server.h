/*
 * RPC entrypoints.  rtcr has no RPC between components (sessions are
 * served by the machine): the Rpc_entrypoint of an Entrypoint only leads
 * back to it (Child handles its child's exit there).
 */
#ifndef _RTCR_SDK__BASE__RPC_SERVER_H_
#define _RTCR_SDK__BASE__RPC_SERVER_H_

#include <util/noncopyable.h>

namespace Genode {
	class Entrypoint;
	struct Rpc_entrypoint;
}

struct Genode::Rpc_entrypoint : Noncopyable
{
	Entrypoint &ep;

	Rpc_entrypoint(Entrypoint &ep) : ep(ep) { }
};

#endif /* _RTCR_SDK__BASE__RPC_SERVER_H_ */
