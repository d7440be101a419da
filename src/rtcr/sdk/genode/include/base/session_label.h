/*
 * The label of a session: who asked for it, each parent on the way
 * prefixing its child's name with " -> ".
 */
#ifndef _RTCR_SDK__BASE__SESSION_LABEL_H_
#define _RTCR_SDK__BASE__SESSION_LABEL_H_

#include <util/string.h>

namespace Genode { struct Session_label; }

struct Genode::Session_label : String<160>
{
	using String<160>::String;

	Session_label() { }
	Session_label(String<160> const &s) : String<160>(s) { }

	/* The part after the last " -> " (all of it if there is none). */
	Session_label last_element() const
	{
		char const *s = string(), *last = s;
		for (char const *p = s; *p; p++)
			if (p[0] == ' ' && p[1] == '-' && p[2] == '>' && p[3] == ' ')
				last = p + 4;
		return Session_label(last);
	}
};

#endif /* _RTCR_SDK__BASE__SESSION_LABEL_H_ */
