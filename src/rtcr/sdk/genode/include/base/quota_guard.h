/*
 * RAM and capability quotas of the Genode API.
 */
#ifndef _RTCR_SDK__BASE__QUOTA_GUARD_H_
#define _RTCR_SDK__BASE__QUOTA_GUARD_H_

#include <base/output.h>

namespace Genode {

	struct Ram_quota
	{
		size_t value;
		void print(Output &out) const;   /* with K/M/G suffix */
	};

	struct Cap_quota
	{
		size_t value;
		void print(Output &out) const { Genode::print(out, value); }
	};
}

#endif /* _RTCR_SDK__BASE__QUOTA_GUARD_H_ */
