/*
 * The component's parent: rtcr's machine, which ends the component on exit.
 */
#ifndef _RTCR_SDK__PARENT__PARENT_H_
#define _RTCR_SDK__PARENT__PARENT_H_

#include <util/interface.h>
#include <util/string.h>

namespace Genode { class Parent; }

class Genode::Parent : Interface
{
	public:

		/* Names of the id spaces of sessions (a child's, and its servers'). */
		struct Client : Interface { };
		struct Server : Interface { };

		using Resource_args = String<160>;

		/* End the component with `exit_value` (the machine keeps its low 8 bits). */
		[[noreturn]] void exit(int exit_value);
};

#endif /* _RTCR_SDK__PARENT__PARENT_H_ */
