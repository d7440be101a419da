#ifndef _INCLUDE__DATASPACE__CAPABILITY_H_
#define _INCLUDE__DATASPACE__CAPABILITY_H_

#include <base/capability.h>
#include <dataspace/dataspace.h>

namespace Genode { using Dataspace_capability = Capability<Dataspace>; }

#endif /* _INCLUDE__DATASPACE__CAPABILITY_H_ */
