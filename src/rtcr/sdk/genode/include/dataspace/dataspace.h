/*
 * Dataspace interface of the Genode API.
 */
#ifndef _RTCR_SDK__DATASPACE__DATASPACE_H_
#define _RTCR_SDK__DATASPACE__DATASPACE_H_

#include <base/stdint.h>
#include <util/interface.h>

namespace Genode { struct Dataspace; }

struct Genode::Dataspace : Interface
{
	virtual ~Dataspace() { }
	virtual size_t size() = 0;
	virtual bool writeable() = 0;
};

#endif /* _RTCR_SDK__DATASPACE__DATASPACE_H_ */
