/*
 * What every session type has: a label (who asks) and a service name.
 */
#ifndef _RTCR_SDK__SESSION__SESSION_H_
#define _RTCR_SDK__SESSION__SESSION_H_

#include <base/session_label.h>

namespace Genode { struct Session; }

struct Genode::Session
{
	using Label = Session_label;
	using Name  = String<64>;
};

#endif /* _RTCR_SDK__SESSION__SESSION_H_ */
