/*
 * The RAM allocator of Env::ram(): alloc() throws on failure, try_alloc()
 * does not.
 */
#ifndef _INCLUDE__BASE__RAM_ALLOCATOR_H_
#define _INCLUDE__BASE__RAM_ALLOCATOR_H_

#include <base/ram.h>
#include <base/exception.h>

namespace Genode {
	struct Ram_allocator;
	using Ram_dataspace            = Ram::Dataspace;
	using Ram_dataspace_capability = Ram::Capability;
}

struct Genode::Ram_allocator : Ram::Constrained_allocator
{
	/* A dataspace of `size` bytes (page-rounded); Out_of_ram, Out_of_caps or Denied. */
	Ram::Capability alloc(size_t size, Cache cache = CACHED)
	{
		return try_alloc(size, cache).convert<Ram_dataspace_capability>(
			[&] (Allocation &a) { a.deallocate = false; return a.cap; },
			[&] (Ram::Error e) -> Ram::Capability { raise(e); });
	}

	size_t _legacy_dataspace_size(Capability<Dataspace>);

	void free(Ram::Capability cap) { Allocation { *this, { cap, _legacy_dataspace_size(cap) } }; }
	void free(Ram::Capability cap, size_t size) { Allocation { *this, { cap, size } }; }

	using Alloc_result = Ram::Constrained_allocator::Result;
	using Alloc_error  = Ram::Error;
	using Denied       = Genode::Denied;
};

#endif /* _INCLUDE__BASE__RAM_ALLOCATOR_H_ */
