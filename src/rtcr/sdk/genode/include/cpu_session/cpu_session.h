/*
 * CPU session of the Genode API: only what names threads.
 */
#ifndef _RTCR_SDK__CPU_SESSION__CPU_SESSION_H_
#define _RTCR_SDK__CPU_SESSION__CPU_SESSION_H_

#include <util/string.h>

namespace Genode { struct Cpu_session; }

struct Genode::Cpu_session : Interface
{
	using Name = String<32>;
};

#endif /* _RTCR_SDK__CPU_SESSION__CPU_SESSION_H_ */
