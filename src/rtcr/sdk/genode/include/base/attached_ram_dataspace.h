/*
 * RAM that is allocated and mapped writeable for exactly the object's life.
 * Either both steps succeed or the constructor throws with nothing left
 * behind, so a constructed object always has its memory (size 0 aside).
 */
#ifndef _RTCR_SDK__BASE__ATTACHED_RAM_DATASPACE_H_
#define _RTCR_SDK__BASE__ATTACHED_RAM_DATASPACE_H_

#include <base/ram_allocator.h>
#include <base/env.h>
#include <base/attached_dataspace.h>

namespace Genode { class Attached_ram_dataspace; }

class Genode::Attached_ram_dataspace
{
	private:

		using Rm = Local::Constrained_region_map;

		/* all of the object's state in one value, so swap() is three assignments */
		struct Holding
		{
			Ram_allocator           *ram;
			Rm                      *rm;
			size_t                   bytes;
			Cache                    cache;
			Ram_dataspace_capability ds   { };
			addr_t                   base { 0 };
		};

		Holding _h;

		static Rm::Attach_attr _writeable()
		{
			Rm::Attach_attr rw { };
			rw.writeable = true;
			return rw;
		}

		[[noreturn]] static void _throw(Rm::Error error)
		{
			switch (error) {
			case Rm::Error::OUT_OF_RAM:  throw Out_of_ram();
			case Rm::Error::OUT_OF_CAPS: throw Out_of_caps();
			default:                     throw Attached_dataspace::Region_conflict();
			}
		}

		void _unmap_and_free()
		{
			if (_h.base != 0)  _h.rm->detach(_h.base);
			if (_h.ds.valid()) _h.ram->free(_h.ds, _h.bytes);
			_h.base = 0;
			_h.ds   = Ram_dataspace_capability();
		}

		void _alloc_and_map()
		{
			if (_h.bytes == 0)
				return;

			_h.ds = _h.ram->alloc(_h.bytes, _h.cache);

			bool     mapped = false;
			Rm::Error why   { };
			_h.rm->attach(_h.ds, _writeable()).with_result(
				[&] (Rm::Attachment &at) {
					at.deallocate = false;   /* detached by _unmap_and_free */
					_h.base = addr_t(at.ptr);
					mapped  = true; },
				[&] (Rm::Error e) { why = e; });

			/* thrown out here, after the failed attachment result is gone */
			if (!mapped) {
				_h.ram->free(_h.ds, _h.bytes);
				_h.ds = Ram_dataspace_capability();
				_throw(why);
			}
		}

	public:

		Attached_ram_dataspace(Ram_allocator &ram, Rm &rm, size_t size, Cache cache = CACHED)
		: _h { &ram, &rm, size, cache }
		{
			_alloc_and_map();
		}

		~Attached_ram_dataspace() { _unmap_and_free(); }

		Attached_ram_dataspace(Attached_ram_dataspace const &) = delete;
		Attached_ram_dataspace &operator = (Attached_ram_dataspace const &) = delete;

		Ram_dataspace_capability cap() const { return _h.ds; }

		template <typename T> T *local_addr() const { return reinterpret_cast<T *>(_h.base); }

		size_t size() const { return _h.bytes; }

		void clear()
		{
			if (_h.base != 0)
				bzero(reinterpret_cast<void *>(_h.base), _h.bytes);
		}

		void swap(Attached_ram_dataspace &other)
		{
			Holding const mine = _h;
			_h       = other._h;
			other._h = mine;
		}

		/* only ever grows; the old content is not carried over */
		void realloc(Ram_allocator *ram, size_t new_size)
		{
			if (new_size < _h.bytes)
				return;
			_unmap_and_free();
			_h.bytes = new_size;
			_h.ram   = ram;
			_alloc_and_map();
		}

		Byte_range_ptr bytes() const { return Byte_range_ptr(local_addr<char>(), _h.bytes); }
};

#endif /* _RTCR_SDK__BASE__ATTACHED_RAM_DATASPACE_H_ */
