/*
 * A dataspace attached to the local address space for the object's lifetime.
 */
#ifndef _INCLUDE__BASE__ATTACHED_DATASPACE_H_
#define _INCLUDE__BASE__ATTACHED_DATASPACE_H_

#include <dataspace/client.h>
#include <base/local.h>
#include <util/string.h>

namespace Genode { class Attached_dataspace; }

class Genode::Attached_dataspace : Noncopyable
{
	public:

		struct Invalid_dataspace : Exception { };
		struct Region_conflict   : Exception { };

	private:

		using Local_rm = Local::Constrained_region_map;

		Dataspace_capability const _ds;
		Local_rm::Result _attached;

		template <typename T>
		T *_ptr() const
		{
			return _attached.convert<T *>(
				[&] (Local_rm::Attachment const &a) { return (T *)a.ptr; },
				[&] (Local_rm::Error)               { return (T *)nullptr; });
		}

	public:

		/* Attached writeable (a sealed or ROM dataspace is read-only all the same). */
		Attached_dataspace(Local_rm &rm, Dataspace_capability ds)
		:
			_ds(ds),
			_attached(rm.attach(ds, { .size = { }, .offset = { }, .use_at = { }, .at = { },
			                          .executable = { }, .writeable = true }))
		{
			_attached.with_error([&] (Local_rm::Error e) {
				switch (e) {
				case Local_rm::Error::OUT_OF_RAM:        throw Out_of_ram();
				case Local_rm::Error::OUT_OF_CAPS:       throw Out_of_caps();
				case Local_rm::Error::REGION_CONFLICT:   throw Region_conflict();
				case Local_rm::Error::INVALID_DATASPACE: throw Invalid_dataspace();
				}
			});
		}

		Dataspace_capability cap() const { return _ds; }

		template <typename T> T *local_addr() { return _ptr<T>(); }
		template <typename T> T const *local_addr() const { return _ptr<T const>(); }

		size_t size() const
		{
			return _attached.convert<size_t>(
				[&] (Local_rm::Attachment const &a) { return a.num_bytes; },
				[&] (Local_rm::Error)               { return 0UL; });
		}

		Byte_range_ptr bytes() const { return { _ptr<char>(), size() }; }

		void invalidate() { _attached = Local_rm::Error::INVALID_DATASPACE; }
};

#endif /* _INCLUDE__BASE__ATTACHED_DATASPACE_H_ */
