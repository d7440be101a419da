/*
 * Cache attributes of RAM (all of rtcr's RAM is cached).
 */
#ifndef _RTCR_SDK__BASE__CACHE_H_
#define _RTCR_SDK__BASE__CACHE_H_

namespace Genode { enum Cache { UNCACHED, WRITE_COMBINED, CACHED }; }

#endif /* _RTCR_SDK__BASE__CACHE_H_ */
