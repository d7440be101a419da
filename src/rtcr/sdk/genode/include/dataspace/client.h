/*
 * Client of a dataspace (RAM, ROM, a region map's managed dataspace): its
 * size, and whether it can be attached writable.
 */
#ifndef _RTCR_SDK__DATASPACE__CLIENT_H_
#define _RTCR_SDK__DATASPACE__CLIENT_H_

#include <dataspace/capability.h>

namespace Genode { struct Dataspace_client; }

struct Genode::Dataspace_client : Dataspace
{
	Dataspace_capability const _ds;

	explicit Dataspace_client(Dataspace_capability ds) : _ds(ds) { }

	size_t size() override;
	bool writeable() override;
};

#endif /* _RTCR_SDK__DATASPACE__CLIENT_H_ */
