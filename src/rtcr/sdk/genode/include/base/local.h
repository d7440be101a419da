/*
 * The component's own address space, as Env::rm() offers it: attach
 * returns an Attachment that detaches itself when it goes out of scope
 * (unless its `deallocate` is cleared).
 *
 * The pre-24.08 interface is offered too, for components of that era (the
 * original Rtcr's targets, for example): attach(ds) and attach_at(ds, at)
 * return a local address that converts to any pointer, and nothing is
 * detached behind the component's back.
 */
#ifndef _RTCR_SDK__BASE__LOCAL_H_
#define _RTCR_SDK__BASE__LOCAL_H_

#include <region_map/region_map.h>
#include <util/allocation.h>

namespace Genode::Local { struct Constrained_region_map; }

struct Genode::Local::Constrained_region_map : Interface, Noncopyable
{
	struct Attr { void *ptr; size_t num_bytes; };

	using Error       = Region_map::Attach_error;
	using Attachment  = Allocation<Constrained_region_map>;
	using Result      = Attachment::Attempt;
	using Attach_attr = Region_map::Attr;

	virtual Result attach(Capability<Dataspace> ds, Attach_attr const &attr) = 0;

	virtual void _free(Attachment &) = 0;

	void detach(addr_t addr) { Attachment { *this, { (void *)addr, 0 } }; }

	/* ---- the pre-24.08 interface ---- */

	/* An address of the local address space, convertible to any pointer. */
	struct Local_addr
	{
		addr_t _addr;

		Local_addr(addr_t addr = 0) : _addr(addr) { }
		Local_addr(void *ptr) : _addr((addr_t)ptr) { }

		template <typename T>
		operator T * () const { return reinterpret_cast<T *>(_addr); }

		operator addr_t () const { return _addr; }
	};

	struct Region_conflict   : Exception { };
	struct Invalid_dataspace : Exception { };

	/* Attach (anywhere, unless use_local_addr); throws on failure, as then. */
	Local_addr _legacy_attach(Capability<Dataspace> ds, size_t size, off_t offset,
	                          bool use_local_addr, Local_addr local_addr,
	                          bool executable, bool writeable);

	Local_addr attach(Capability<Dataspace> ds)
	{
		return _legacy_attach(ds, 0, 0, false, (addr_t)0, false, true);
	}

	/*
	 * A template, so that `attach(ds, { })` -- an empty Attach_attr in
	 * today's API -- cannot be taken for a size of zero.
	 */
	template <typename SIZE>
	Local_addr attach(Capability<Dataspace> ds, SIZE size, off_t offset = 0,
	                  bool use_local_addr = false, Local_addr local_addr = (addr_t)0,
	                  bool executable = false, bool writeable = true)
	{
		return _legacy_attach(ds, size, offset, use_local_addr, local_addr, executable,
		                      writeable);
	}

	Local_addr attach_at(Capability<Dataspace> ds, addr_t local_addr, size_t size = 0,
	                     off_t offset = 0)
	{
		return _legacy_attach(ds, size, offset, true, local_addr, false, true);
	}

	Local_addr attach_executable(Capability<Dataspace> ds, addr_t local_addr,
	                             size_t size = 0, off_t offset = 0)
	{
		return _legacy_attach(ds, size, offset, true, local_addr, true, true);
	}

	template <typename T>
	void detach(T *ptr) { detach((addr_t)ptr); }
};

#endif /* _RTCR_SDK__BASE__LOCAL_H_ */
