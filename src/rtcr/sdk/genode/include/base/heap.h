/*
 * The heap of the Genode API.  On rtcr it takes its memory from the SDK's
 * heap (RAM of the component's own PD), so `ram` and `rm` are accepted for
 * the interface's sake.
 */
#ifndef _RTCR_SDK__BASE__HEAP_H_
#define _RTCR_SDK__BASE__HEAP_H_

#include <base/allocator.h>
#include <base/ram_allocator.h>
#include <base/local.h>

namespace Genode { class Heap; }

class Genode::Heap : public Allocator
{
	private:

		size_t _consumed = 0;

	public:

		using Local_rm = Local::Constrained_region_map;

		Heap(Ram_allocator &, Local_rm &) { }
		Heap(Ram_allocator *, Local_rm *) { }

		void  *try_alloc_bytes(size_t size) override;
		void   free(void *addr, size_t size) override;
		bool   need_size_for_free() const override { return false; }
		size_t consumed() const override { return _consumed; }
};

#endif /* _RTCR_SDK__BASE__HEAP_H_ */
