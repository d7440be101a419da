/*
 * Fixed-width integer types of the Genode API (x86-64).
 */
#ifndef _RTCR_SDK__BASE__FIXED_STDINT_H_
#define _RTCR_SDK__BASE__FIXED_STDINT_H_

namespace Genode {
	typedef signed char        int8_t;
	typedef unsigned char      uint8_t;
	typedef signed short       int16_t;
	typedef unsigned short     uint16_t;
	typedef signed int         int32_t;
	typedef unsigned int       uint32_t;
	typedef signed long long   int64_t;
	typedef unsigned long long uint64_t;
}

#endif /* _RTCR_SDK__BASE__FIXED_STDINT_H_ */
