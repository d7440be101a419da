/*
 * RAM allocation of the Genode API: try_alloc returns an Allocation that
 * frees the dataspace when it goes out of scope (unless `deallocate` is
 * cleared).
 */
#ifndef _RTCR_SDK__BASE__RAM_H_
#define _RTCR_SDK__BASE__RAM_H_

#include <util/allocation.h>
#include <base/error.h>
#include <base/capability.h>
#include <base/quota_guard.h>
#include <base/cache.h>
#include <dataspace/dataspace.h>

namespace Genode::Ram {
	struct Dataspace : Genode::Dataspace { };
	using Capability = Genode::Capability<Dataspace>;
	using Error      = Alloc_error;
	struct Constrained_allocator;
}

struct Genode::Ram::Constrained_allocator : Interface, Noncopyable
{
	struct Attr
	{
		Capability cap;
		size_t     num_bytes;
	};

	using Error      = Ram::Error;
	using Allocation = Genode::Allocation<Constrained_allocator>;
	using Result     = Allocation::Attempt;

	virtual Result try_alloc(size_t size, Cache cache = CACHED) = 0;
	virtual void _free(Allocation &) = 0;
	virtual void seal(Ram::Capability) = 0;
};

namespace Genode::Ram {
	using Allocator  = Constrained_allocator;
	using Allocation = Allocator::Allocation;
}

#endif /* _RTCR_SDK__BASE__RAM_H_ */
