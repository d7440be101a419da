/*
 * Env::ram()'s allocator.  try_alloc() (inherited) reports failures as
 * values; alloc() and free() are the older capability-based calls that
 * components still use, so they are built on top of the Allocation guard
 * rather than beside it: the accounting lives in one place, _free().
 */
#ifndef _RTCR_SDK__BASE__RAM_ALLOCATOR_H_
#define _RTCR_SDK__BASE__RAM_ALLOCATOR_H_

#include <base/ram.h>
#include <base/exception.h>

namespace Genode {
	struct Ram_allocator;
	using Ram_dataspace            = Ram::Dataspace;
	using Ram_dataspace_capability = Ram::Capability;
}

struct Genode::Ram_allocator : Ram::Constrained_allocator
{
	private:

		/* a guard built around an existing dataspace frees it when it dies */
		void _release(Ram::Capability cap, size_t size)
		{
			Allocation const returned { *this, { cap, size } };
			(void)returned;
		}

	public:

		/* page-rounded dataspace; throws Out_of_ram, Out_of_caps or Denied */
		Ram::Capability alloc(size_t size, Cache cache = CACHED)
		{
			Ram::Capability granted { };
			try_alloc(size, cache).with_result(
				[&] (Allocation &got) { got.deallocate = false; granted = got.cap; },
				[&] (Ram::Error why)  { raise(why); });
			return granted;
		}

		size_t _legacy_dataspace_size(Capability<Dataspace>);

		/* the size is only needed for quota accounting; ask for it if the caller does not know */
		void free(Ram::Capability cap)              { _release(cap, _legacy_dataspace_size(cap)); }
		void free(Ram::Capability cap, size_t size) { _release(cap, size); }

		using Alloc_result = Ram::Constrained_allocator::Result;
		using Alloc_error  = Ram::Error;
		using Denied       = Genode::Denied;
};

#endif /* _RTCR_SDK__BASE__RAM_ALLOCATOR_H_ */
