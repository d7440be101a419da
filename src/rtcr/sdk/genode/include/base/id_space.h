/*
 * Spaces of ids that name sessions between a parent and its children.
 * rtcr's children open their sessions at the machine, so the space stays
 * empty; it exists because a Child_policy hands one out.
 */
#ifndef _RTCR_SDK__BASE__ID_SPACE_H_
#define _RTCR_SDK__BASE__ID_SPACE_H_

#include <util/noncopyable.h>

namespace Genode { template <typename> class Id_space; }

template <typename T>
class Genode::Id_space : Noncopyable
{
	public:

		struct Id { unsigned long value; };

		Id_space() { }
};

#endif /* _RTCR_SDK__BASE__ID_SPACE_H_ */
