#ifndef _RTCR_SDK__DATASPACE__CAPABILITY_H_
#define _RTCR_SDK__DATASPACE__CAPABILITY_H_

#include <base/capability.h>
#include <dataspace/dataspace.h>

namespace Genode { using Dataspace_capability = Capability<Dataspace>; }

#endif /* _RTCR_SDK__DATASPACE__CAPABILITY_H_ */
