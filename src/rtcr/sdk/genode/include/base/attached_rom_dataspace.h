/*
 * A ROM module mapped into the component, the way `config` is read: the
 * session stays open for the object's life, the mapping is redone only when
 * there is none (rtcr's modules never change under a component).
 */
#ifndef _RTCR_SDK__BASE__ATTACHED_ROM_DATASPACE_H_
#define _RTCR_SDK__BASE__ATTACHED_ROM_DATASPACE_H_

#include <rom_session/connection.h>
#include <base/attached_dataspace.h>
#include <base/node.h>
#include <util/reconstructible.h>

namespace Genode { class Attached_rom_dataspace; }

class Genode::Attached_rom_dataspace
{
	private:

		Local::Constrained_region_map    &_local;
		Rom_connection                    _session;
		Constructible<Attached_dataspace> _mapping { };

		/*
		 * The old mapping goes first, so a failed attempt leaves the object
		 * invalid rather than showing stale content.
		 */
		void _remap()
		{
			_mapping.destruct();
			try {
				_mapping.construct(_local, _session.dataspace());
			} catch (Attached_dataspace::Invalid_dataspace) {
				/* an empty module: valid() stays false, size() is 0 */
			}
		}

		/* the text ends at the first NUL: the module is padded to whole pages */
		size_t _text_length(char const *text) const
		{
			size_t const limit = size();
			size_t len = 0;
			for (; len < limit && text[len] != 0; len++) { }
			return len;
		}

	public:

		Attached_rom_dataspace(Env &env, char const *name)
		: _local(env.rm()), _session(env, name)
		{
			_remap();
		}

		Dataspace_capability cap() const { return _mapping->cap(); }

		template <typename T> T *local_addr() { return _mapping->local_addr<T>(); }
		template <typename T> T const *local_addr() const { return _mapping->local_addr<T const>(); }

		size_t size() const { return valid() ? _mapping->size() : 0; }

		void sigh(Signal_context_capability sigh) { _session.sigh(sigh); }

		void update()
		{
			if (!valid())
				_remap();
		}

		bool valid() const { return _mapping.constructed(); }

		Node node() const
		{
			char const * const text = valid() ? local_addr<char const>() : nullptr;
			if (text == nullptr)
				return Node();
			return Node(Span(text, _text_length(text)));
		}
};

#endif /* _RTCR_SDK__BASE__ATTACHED_ROM_DATASPACE_H_ */
