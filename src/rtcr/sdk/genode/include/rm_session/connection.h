/*
 * Connection to the RM service: region maps to nest (managed dataspaces).
 */
#ifndef _RTCR_SDK__RM_SESSION__CONNECTION_H_
#define _RTCR_SDK__RM_SESSION__CONNECTION_H_

#include <rm_session/rm_session.h>
#include <base/connection.h>
#include <base/log.h>

namespace Genode { struct Rm_connection; }

struct Genode::Rm_connection : Connection<Rm_session>
{
	struct Session : Rm_session
	{
		Create_result create(size_t size) override;
		void destroy(Capability<Region_map>) override;
	} _session { };

	Rm_connection(Env &env) : Connection<Rm_session>(env) { }

	/* A new region map of `size` bytes; an invalid capability if it was denied. */
	Capability<Region_map> create(size_t size)
	{
		return _session.create(size).convert<Capability<Region_map>>(
			[&] (Capability<Region_map> cap) { return cap; },
			[&] (Alloc_error e) {
				error("region-map creation denied: ", e);
				return Capability<Region_map>();
			});
	}

	/* Detach everything from it, invalidate its dataspace, give its quota back. */
	void destroy(Capability<Region_map> cap) { _session.destroy(cap); }
};

#endif /* _RTCR_SDK__RM_SESSION__CONNECTION_H_ */
