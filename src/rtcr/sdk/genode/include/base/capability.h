/*
 * Capabilities of the Genode API.
 *
 * A capability names a core object by the component's capability
 * selector on rtcr (0: invalid).  Capability<T> converts to Capability<B>
 * when T derives from B (a RAM dataspace is a dataspace), as on Genode.
 */
#ifndef _RTCR_SDK__BASE__CAPABILITY_H_
#define _RTCR_SDK__BASE__CAPABILITY_H_

#include <base/output.h>

namespace Genode {
	class Native_capability;
	template <typename> class Capability;
	using Untyped_capability = Native_capability;
}

class Genode::Native_capability
{
	protected:

		long _sel = 0;

	public:

		Native_capability() { }
		explicit Native_capability(long selector) : _sel(selector > 0 ? selector : 0) { }

		bool valid() const { return _sel > 0; }
		long selector() const { return _sel; }   /* rtcr: the capability selector */
		unsigned long local_name() const { return (unsigned long)_sel; }

		bool operator == (Native_capability const &o) const { return _sel == o._sel; }
		bool operator != (Native_capability const &o) const { return _sel != o._sel; }

		void print(Output &out) const { Genode::print(out, "cap<", _sel, ">"); }
};

template <typename RPC_INTERFACE>
class Genode::Capability : public Native_capability
{
	public:

		using Rpc_interface = RPC_INTERFACE;

		Capability() { }
		explicit Capability(long selector) : Native_capability(selector) { }

		template <typename FROM>
		Capability(Capability<FROM> const &from) : Native_capability(from.selector())
		{
			static_assert(__is_base_of(RPC_INTERFACE, FROM),
			              "a capability converts only to one of a base interface");
		}
};

namespace Genode {

	template <typename TO, typename FROM>
	static inline Capability<TO> static_cap_cast(Capability<FROM> cap)
	{
		return Capability<TO>(cap.selector());
	}

	template <typename TO>
	static inline Capability<TO> reinterpret_cap_cast(Native_capability const &cap)
	{
		return Capability<TO>(cap.selector());
	}
}

#endif /* _RTCR_SDK__BASE__CAPABILITY_H_ */
