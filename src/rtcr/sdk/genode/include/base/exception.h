/*
 * Exceptions of the Genode API.
 */
#ifndef _RTCR_SDK__BASE__EXCEPTION_H_
#define _RTCR_SDK__BASE__EXCEPTION_H_

namespace Genode {
	class Exception { };
	struct Out_of_ram     : Exception { };
	struct Out_of_caps    : Exception { };
	struct Denied         : Exception { };
	struct Service_denied : Exception { };
	struct Insufficient_ram_quota : Exception { };
	struct Insufficient_cap_quota : Exception { };
	struct Nonexistent_sub_node   : Exception { };
	struct Access_unconstructed_obj : Exception { };
	struct Index_out_of_bounds    : Exception { };
	struct Ipc_error              : Exception { };
}

#endif /* _RTCR_SDK__BASE__EXCEPTION_H_ */
