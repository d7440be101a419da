/*
 * RM session of the Genode API: create and destroy region maps.
 */
#ifndef _RTCR_SDK__RM_SESSION__RM_SESSION_H_
#define _RTCR_SDK__RM_SESSION__RM_SESSION_H_

#include <region_map/region_map.h>

namespace Genode { struct Rm_session; }

struct Genode::Rm_session : Interface
{
	static const char *service_name() { return "RM"; }

	using Create_result = Attempt<Capability<Region_map>, Alloc_error>;

	virtual Create_result create(size_t size) = 0;
	virtual void destroy(Capability<Region_map>) = 0;
};

#endif /* _RTCR_SDK__RM_SESSION__RM_SESSION_H_ */
