/*
 * The component's environment, handed to Component::construct.
 */
#ifndef _RTCR_SDK__BASE__ENV_H_
#define _RTCR_SDK__BASE__ENV_H_

#include <parent/parent.h>
#include <base/entrypoint.h>
#include <base/local.h>
#include <base/ram_allocator.h>
#include <pd_session/capability.h>
#include <cpu_session/cpu_session.h>

namespace Genode { struct Env; }

struct Genode::Env : Interface
{
	using Local_rm = Local::Constrained_region_map;

	virtual Parent        &parent() = 0;
	virtual Cpu_session   &cpu()    = 0;
	virtual Local_rm      &rm()     = 0;
	virtual Pd_session    &pd()     = 0;
	virtual Ram_allocator &ram()    = 0;
	virtual Entrypoint    &ep()     = 0;

	/* The capability of pd(), to name it as another PD's reference account. */
	virtual Pd_session_capability pd_session_cap() = 0;

	/* Static constructors already ran (the SDK's crt0 runs them); nothing to do. */
	virtual void exec_static_constructors() = 0;
};

#endif /* _RTCR_SDK__BASE__ENV_H_ */
