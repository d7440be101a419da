/*
 * Connection to a ROM module by name (`rtcr run --rom NAME=FILE`; the
 * config ROM is `--config FILE`).  A missing ROM throws
 * Rom_connection_failed (after an error line), as on Genode.
 */
#ifndef _RTCR_SDK__ROM_SESSION__CONNECTION_H_
#define _RTCR_SDK__ROM_SESSION__CONNECTION_H_

#include <base/connection.h>
#include <base/signal.h>
#include <dataspace/capability.h>
#include <base/session_label.h>

namespace Genode {
	struct Rom_session;
	struct Rom_connection;
	using Rom_dataspace_capability = Dataspace_capability;
}

struct Genode::Rom_session : Interface
{
	static const char *service_name() { return "ROM"; }
};

struct Genode::Rom_connection : Connection<Rom_session>
{
	struct Rom_connection_failed : Service_denied { };

	Dataspace_capability const _ds;

	static Dataspace_capability _open(char const *label);

	Rom_connection(Env &env, Session_label const &label)
	: Connection<Rom_session>(env), _ds(_open(label.string())) { }

	Rom_connection(Env &env, char const *label)
	: Connection<Rom_session>(env), _ds(_open(label)) { }

	Rom_dataspace_capability dataspace() { return _ds; }

	/* ROM modules of rtcr never change: nothing to update, no signal to send. */
	bool update() { return true; }
	void sigh(Signal_context_capability) { }
};

#endif /* _RTCR_SDK__ROM_SESSION__CONNECTION_H_ */
