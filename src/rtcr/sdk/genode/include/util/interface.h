/*
 * Common base of abstract interfaces: a virtual destructor.
 */
#ifndef _RTCR_SDK__UTIL__INTERFACE_H_
#define _RTCR_SDK__UTIL__INTERFACE_H_

namespace Genode { struct Interface { virtual ~Interface() { } }; }

#endif /* _RTCR_SDK__UTIL__INTERFACE_H_ */
