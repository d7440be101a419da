/*
 * RPC entrypoints.  rtcr has no RPC between components (sessions are
 * served by the machine), so an Rpc_entrypoint is only named: Child takes
 * the one of Env::ep().
 */
#ifndef _INCLUDE__BASE__RPC_SERVER_H_
#define _INCLUDE__BASE__RPC_SERVER_H_

#include <util/noncopyable.h>

namespace Genode { struct Rpc_entrypoint; }

struct Genode::Rpc_entrypoint : Noncopyable { Rpc_entrypoint() { } };

#endif /* _INCLUDE__BASE__RPC_SERVER_H_ */
