/*
 * Region-map interface of the Genode API: attach dataspaces, detach them,
 * learn about faults.  Field order of Attr and Fault as on Genode, so that
 * designated initializers work unchanged.
 */
#ifndef _RTCR_SDK__REGION_MAP__REGION_MAP_H_
#define _RTCR_SDK__REGION_MAP__REGION_MAP_H_

#include <util/attempt.h>
#include <base/exception.h>
#include <base/stdint.h>
#include <base/signal.h>
#include <base/quota_guard.h>
#include <dataspace/capability.h>

namespace Genode { struct Region_map; }

struct Genode::Region_map : Interface
{
	struct Fault
	{
		enum class Type { NONE, READ, WRITE, EXEC };

		Type   type;
		addr_t addr;   /* in this map's coordinates, unless type is NONE */
	};

	struct Range { addr_t start; size_t num_bytes; };

	struct Attr
	{
		size_t size;      /* 0: the rest of the dataspace */
		addr_t offset;    /* page-aligned offset in the dataspace */
		bool   use_at;
		addr_t at;        /* the region's start when use_at is set */
		bool   executable;
		bool   writeable;
	};

	enum class Attach_error { OUT_OF_RAM, OUT_OF_CAPS, REGION_CONFLICT, INVALID_DATASPACE };

	using Attach_result = Attempt<Range, Attach_error>;

	virtual Attach_result attach(Dataspace_capability ds, Attr const &attr) = 0;
	virtual void detach(addr_t) = 0;
	virtual void fault_handler(Signal_context_capability handler) = 0;
	virtual Fault fault() = 0;
	virtual Dataspace_capability dataspace() = 0;
};

#endif /* _RTCR_SDK__REGION_MAP__REGION_MAP_H_ */
