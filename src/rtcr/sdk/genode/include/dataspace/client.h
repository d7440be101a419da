/*
 * Client of a dataspace: its size (any dataspace: RAM, ROM, a region
 * map's managed dataspace).  Genode's `writeable()` query is not offered:
 * the machine has no system call for it (see docs/architecture.md).
 */
#ifndef _INCLUDE__DATASPACE__CLIENT_H_
#define _INCLUDE__DATASPACE__CLIENT_H_

#include <dataspace/capability.h>

namespace Genode { struct Dataspace_client; }

struct Genode::Dataspace_client : Dataspace
{
	Dataspace_capability const _ds;

	explicit Dataspace_client(Dataspace_capability ds) : _ds(ds) { }

	size_t size() override;
};

#endif /* _INCLUDE__DATASPACE__CLIENT_H_ */
