/*
 * Cache attributes of RAM (all of rtcr's RAM is cached).
 */
#ifndef _INCLUDE__BASE__CACHE_H_
#define _INCLUDE__BASE__CACHE_H_

namespace Genode { enum Cache { UNCACHED, WRITE_COMBINED, CACHED }; }

#endif /* _INCLUDE__BASE__CACHE_H_ */
