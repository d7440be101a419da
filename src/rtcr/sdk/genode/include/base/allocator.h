/*
 * Allocators of the Genode API: `new (alloc) T(...)` takes memory from an
 * Allocator, `destroy(alloc, obj)` runs the destructor and gives it back.
 */
#ifndef _RTCR_SDK__BASE__ALLOCATOR_H_
#define _RTCR_SDK__BASE__ALLOCATOR_H_

#include <util/interface.h>
#include <base/stdint.h>
#include <base/exception.h>

namespace Genode {
	struct Deallocator;
	struct Allocator;
	template <typename T> void destroy(auto &&dealloc, T *obj);
}

struct Genode::Deallocator : Interface
{
	virtual void free(void *addr, size_t size) = 0;
	virtual bool need_size_for_free() const = 0;
};

struct Genode::Allocator : Deallocator
{
	using Out_of_memory = Out_of_ram;

	/* Memory for `size` bytes, or nullptr when there is none. */
	virtual void *try_alloc_bytes(size_t size) = 0;

	virtual size_t consumed() const { return 0; }
	virtual size_t overhead(size_t) const { return 0; }
};

void *operator new    (__SIZE_TYPE__, Genode::Allocator &);
void *operator new [] (__SIZE_TYPE__, Genode::Allocator &);
void *operator new    (__SIZE_TYPE__, Genode::Allocator *);
void *operator new [] (__SIZE_TYPE__, Genode::Allocator *);

template <typename T>
void Genode::destroy(auto &&dealloc, T *obj)
{
	/* as with delete, a null pointer names no object */
	if (obj == nullptr) return;

	obj->~T();
	dealloc.free((void *)obj, sizeof(T));   /* the cast also drops a const T's const */
}

#endif /* _RTCR_SDK__BASE__ALLOCATOR_H_ */
