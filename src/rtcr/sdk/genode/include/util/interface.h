/*
 * Common base of abstract interfaces: a virtual destructor.
 */
#ifndef _INCLUDE__UTIL__INTERFACE_H_
#define _INCLUDE__UTIL__INTERFACE_H_

namespace Genode { struct Interface { virtual ~Interface() { } }; }

#endif /* _INCLUDE__UTIL__INTERFACE_H_ */
