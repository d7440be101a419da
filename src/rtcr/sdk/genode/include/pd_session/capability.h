#ifndef _RTCR_SDK__PD_SESSION__CAPABILITY_H_
#define _RTCR_SDK__PD_SESSION__CAPABILITY_H_

#include <pd_session/pd_session.h>

namespace Genode { using Pd_session_capability = Capability<Pd_session>; }

#endif /* _RTCR_SDK__PD_SESSION__CAPABILITY_H_ */
