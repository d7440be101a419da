/*
 * A function object passed through a virtual interface: `Ft` is the
 * interface a callee takes, `Fn<FN>` wraps a lambda of the caller's.
 */
#ifndef _INCLUDE__UTIL__CALLABLE_H_
#define _INCLUDE__UTIL__CALLABLE_H_

#include <util/interface.h>

namespace Genode { template <typename, typename...> struct Callable; }

template <typename RET, typename... ARGS>
struct Genode::Callable
{
	struct Ft : Interface { virtual RET operator () (ARGS &&...) const = 0; };

	template <typename FN>
	struct Fn : Ft
	{
		FN const &_wrapped;
		Fn(FN const &fn) : _wrapped(fn) { }
		RET operator () (ARGS &&... args) const override { return _wrapped(args...); }
	};
};

#endif /* _INCLUDE__UTIL__CALLABLE_H_ */
