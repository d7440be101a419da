/*
 * Children, allocators and the heap of the Genode API (base/child.h,
 * base/allocator.h, base/heap.h).
 */
#include <base/child.h>
#include <base/log.h>
#include <rtcr/genode.h>

using namespace Genode;

void *Heap::try_alloc_bytes(size_t size)
{
	void *p = ::malloc(size);
	if (p) _consumed += size;
	return p;
}

void Heap::free(void *addr, size_t size)
{
	::free(addr);
	_consumed -= size < _consumed ? size : _consumed;
}

static void *allocate(Allocator &alloc, size_t size)
{
	void *p = alloc.try_alloc_bytes(size);
	if (!p)
		throw Out_of_ram();
	return p;
}

void *operator new    (__SIZE_TYPE__ size, Allocator &alloc) { return allocate(alloc, size); }
void *operator new [] (__SIZE_TYPE__ size, Allocator &alloc) { return allocate(alloc, size); }
void *operator new    (__SIZE_TYPE__ size, Allocator *alloc) { return allocate(*alloc, size); }
void *operator new [] (__SIZE_TYPE__ size, Allocator *alloc) { return allocate(*alloc, size); }

void Child::_start()
{
	Pd_session_capability const pd = Pd_connection::_open(_policy.name().string());
	_pd.construct(pd);
	_policy.init(*_pd, pd);

	/* the binary, through the policy's route to a ROM service */
	long binary = -Rtcr::ECAP;
	_policy.with_route("ROM", Session_label(_policy.binary_name().string()),
		[&] (Child_policy::Route const &route) {
			if (route.service.parent())
				binary = rtcr_rom_open(route.label.string()); },
		[&] { });
	if (binary < 0) {
		error(_policy.name(), ": no ROM for binary \"", _policy.binary_name(), "\"");
		return;
	}
	long const started = rtcr_child_start(pd.selector(), binary, _policy.name().string(),
	                                      Signal_context_capability(_exit_handler).selector());
	if (started < 0) {
		error(_policy.name(), ": could not start the child (error ", -started, ")");
		return;
	}
	_started = true;
}

void Child::_handle_exit()
{
	long const value = rtcr_child_exit_value(_pd->rpc_cap().selector());
	if (value >= 0)
		_policy.exit(int(value));
}
