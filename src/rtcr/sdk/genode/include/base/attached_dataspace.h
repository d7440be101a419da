/*
 * A dataspace attached to the local address space for the object's lifetime.
 */
#ifndef _RTCR_SDK__BASE__ATTACHED_DATASPACE_H_
#define _RTCR_SDK__BASE__ATTACHED_DATASPACE_H_

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

		/*
		 * The attachment, held for the object's lifetime: letting go of it
		 * (invalidate, destruction) detaches the dataspace.
		 */
		Local_rm::Result _held;

		/* The whole dataspace, anywhere, writeable (sealed RAM and ROM read-only anyway). */
		static Region_map::Attr _whole()
		{
			Region_map::Attr attr { };
			attr.writeable = true;
			return attr;
		}

		[[noreturn]] static void _throw(Local_rm::Error error)
		{
			if (error == Local_rm::Error::OUT_OF_RAM)      throw Out_of_ram();
			if (error == Local_rm::Error::OUT_OF_CAPS)     throw Out_of_caps();
			if (error == Local_rm::Error::REGION_CONFLICT) throw Region_conflict();
			throw Invalid_dataspace();
		}

		/* `read` of the attachment, or `absent` when there is none. */
		template <typename T>
		T _of_attachment(auto const &read, T absent) const
		{
			T value = absent;
			_held.with_result([&] (Local_rm::Attachment const &a) { value = read(a); },
			                  [&] (Local_rm::Error) { });
			return value;
		}

		char *_start() const
		{
			return _of_attachment<char *>([] (Local_rm::Attachment const &a) {
				return static_cast<char *>(a.ptr); }, nullptr);
		}

	public:

		Attached_dataspace(Local_rm &rm, Dataspace_capability ds)
		: _ds(ds), _held(rm.attach(ds, _whole()))
		{
			_held.with_error([] (Local_rm::Error error) { _throw(error); });
		}

		Dataspace_capability cap() const { return _ds; }

		template <typename T> T *local_addr() { return reinterpret_cast<T *>(_start()); }

		template <typename T> T const *local_addr() const
		{
			return reinterpret_cast<T const *>(_start());
		}

		size_t size() const
		{
			return _of_attachment<size_t>([] (Local_rm::Attachment const &a) {
				return a.num_bytes; }, 0);
		}

		Byte_range_ptr bytes() const { return { _start(), size() }; }

		/* Detaches now; the object stays, without an attachment. */
		void invalidate() { _held = Local_rm::Error::INVALID_DATASPACE; }
};

#endif /* _RTCR_SDK__BASE__ATTACHED_DATASPACE_H_ */
