/*
 * Base of session connections (rtcr's sessions need no arguments).
 */
#ifndef _RTCR_SDK__BASE__CONNECTION_H_
#define _RTCR_SDK__BASE__CONNECTION_H_

#include <base/env.h>
#include <base/quota_guard.h>
#include <base/session_label.h>

namespace Genode { template <typename> struct Connection; }

template <typename SESSION>
struct Genode::Connection : Noncopyable
{
	using Label = Session_label;

	Env &_env;

	Connection(Env &env) : _env(env) { }

	/* Quota upgrades: rtcr's sessions have none to receive. */
	void upgrade_ram(size_t)  { }
	void upgrade_caps(size_t) { }
};

#endif /* _RTCR_SDK__BASE__CONNECTION_H_ */
