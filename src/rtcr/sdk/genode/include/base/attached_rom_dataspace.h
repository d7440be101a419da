/*
 * A ROM module attached to the local address space; node() parses it
 * (XML or HID), as the `config` ROM is read.
 */
#ifndef _INCLUDE__BASE__ATTACHED_ROM_DATASPACE_H_
#define _INCLUDE__BASE__ATTACHED_ROM_DATASPACE_H_

#include <rom_session/connection.h>
#include <base/attached_dataspace.h>
#include <base/node.h>
#include <util/reconstructible.h>

namespace Genode { class Attached_rom_dataspace; }

class Genode::Attached_rom_dataspace
{
	private:

		using Local_rm = Local::Constrained_region_map;

		Local_rm      &_rm;
		Rom_connection _rom;
		Constructible<Attached_dataspace> _ds { };

		void _try_attach()
		{
			_ds.destruct();
			try { _ds.construct(_rm, _rom.dataspace()); }
			catch (Attached_dataspace::Invalid_dataspace) { }
		}

	public:

		Attached_rom_dataspace(Env &env, char const *name)
		: _rm(env.rm()), _rom(env, name) { _try_attach(); }

		Dataspace_capability cap() const { return _ds->cap(); }

		template <typename T> T *local_addr() { return _ds->local_addr<T>(); }
		template <typename T> T const *local_addr() const { return _ds->local_addr<T const>(); }

		size_t size() const { return _ds.constructed() ? _ds->size() : 0; }

		void sigh(Signal_context_capability sigh) { _rom.sigh(sigh); }

		void update() { if (!_ds.constructed()) _try_attach(); }

		bool valid() const { return _ds.constructed(); }

		/* The content as a node (up to its first NUL: the ROM is page-padded). */
		Node node() const
		{
			if (!valid() || !local_addr<char const>())
				return Node();
			char const *text = local_addr<char const>();
			size_t n = 0;
			while (n < size() && text[n]) n++;
			return Node(Span(text, n));
		}
};

#endif /* _INCLUDE__BASE__ATTACHED_ROM_DATASPACE_H_ */
