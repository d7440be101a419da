/*
 * Client of a region map named by a capability (Rm_connection::create).
 */
#ifndef _RTCR_SDK__REGION_MAP__CLIENT_H_
#define _RTCR_SDK__REGION_MAP__CLIENT_H_

#include <region_map/region_map.h>

namespace Genode {
	class Region_map_client;

	/* The Attach_error a machine error code stands for. */
	Region_map::Attach_error attach_error(long error);
}

class Genode::Region_map_client : public Region_map
{
	private:

		Capability<Region_map> const _rm;

	public:

		explicit Region_map_client(Capability<Region_map> rm) : _rm(rm) { }

		Capability<Region_map> rpc_cap() const { return _rm; }

		Attach_result        attach(Dataspace_capability, Attr const &) override;
		void                 detach(addr_t)                             override;
		void                 fault_handler(Signal_context_capability)   override;
		Fault                fault()                                    override;
		Dataspace_capability dataspace()                                override;
};

#endif /* _RTCR_SDK__REGION_MAP__CLIENT_H_ */
