/*
 * Integer types of the Genode API (rtcr's implementation).
 */
#ifndef _RTCR_SDK__BASE__STDINT_H_
#define _RTCR_SDK__BASE__STDINT_H_

#include <base/fixed_stdint.h>

namespace Genode {
	typedef unsigned long size_t;
	typedef unsigned long addr_t;
	typedef long          off_t;
	typedef unsigned long umword_t;
}

#endif /* _RTCR_SDK__BASE__STDINT_H_ */
