/*
 * A RAM dataspace allocated and attached for the object's lifetime.
 */
#ifndef _INCLUDE__BASE__ATTACHED_RAM_DATASPACE_H_
#define _INCLUDE__BASE__ATTACHED_RAM_DATASPACE_H_

#include <base/ram_allocator.h>
#include <base/env.h>
#include <base/attached_dataspace.h>

namespace Genode { class Attached_ram_dataspace; }

class Genode::Attached_ram_dataspace
{
	private:

		using Local_rm = Local::Constrained_region_map;

		size_t                   _size = 0;
		Ram_allocator           *_ram  = nullptr;
		Local_rm                *_rm   = nullptr;
		Ram_dataspace_capability _ds { };
		addr_t                   _at   = 0;

		void _release()
		{
			if (_at) _rm->detach(_at);
			if (_ds.valid()) _ram->free(_ds, _size);
			_at = 0;
			_ds = Ram_dataspace_capability();
		}

		void _acquire()
		{
			if (!_size) return;
			_ds = _ram->alloc(_size);
			Local_rm::Attach_attr attr { };
			attr.writeable = true;
			_rm->attach(_ds, attr).with_result(
				[&] (Local_rm::Attachment &a) { a.deallocate = false; _at = addr_t(a.ptr); },
				[&] (Local_rm::Error e) {
					_ram->free(_ds, _size);
					_ds = Ram_dataspace_capability();
					if (e == Local_rm::Error::OUT_OF_RAM)  throw Out_of_ram();
					if (e == Local_rm::Error::OUT_OF_CAPS) throw Out_of_caps();
					throw Attached_dataspace::Region_conflict();
				});
		}

		Attached_ram_dataspace(Attached_ram_dataspace const &);
		Attached_ram_dataspace &operator = (Attached_ram_dataspace const &);

	public:

		Attached_ram_dataspace(Ram_allocator &ram, Local_rm &rm, size_t size,
		                       Cache = CACHED)
		: _size(size), _ram(&ram), _rm(&rm) { _acquire(); }

		~Attached_ram_dataspace() { _release(); }

		Ram_dataspace_capability cap() const { return _ds; }

		template <typename T> T *local_addr() const { return reinterpret_cast<T *>(_at); }

		size_t size() const { return _size; }

		void clear() { if (_at) bzero((void *)_at, _size); }

		void swap(Attached_ram_dataspace &other)
		{
			auto swap_values = [] (auto &a, auto &b) { auto t = a; a = b; b = t; };
			swap_values(_size, other._size);
			swap_values(_ram,  other._ram);
			swap_values(_rm,   other._rm);
			swap_values(_ds,   other._ds);
			swap_values(_at,   other._at);
		}

		/* Replace the dataspace by a bigger one (contents are not kept). */
		void realloc(Ram_allocator *ram, size_t new_size)
		{
			if (new_size < _size) return;
			_release();
			_size = new_size;
			_ram  = ram;
			_acquire();
		}

		Byte_range_ptr bytes() const { return { local_addr<char>(), size() }; }
};

#endif /* _INCLUDE__BASE__ATTACHED_RAM_DATASPACE_H_ */
