/*
 * Lambdas through virtual functions.  A virtual method cannot be a template,
 * so it takes Callable<RET, ARGS...>::Ft const & (the bare signature), and
 * the public, templated wrapper passes Fn<decltype(lambda)> { lambda }.
 * Fn only borrows the lambda: it lives for the one call it is made for.
 */
#ifndef _RTCR_SDK__UTIL__CALLABLE_H_
#define _RTCR_SDK__UTIL__CALLABLE_H_

#include <util/interface.h>

namespace Genode { template <typename, typename...> struct Callable; }

template <typename RET, typename... ARGS>
struct Genode::Callable
{
	struct Ft : Interface { virtual RET operator () (ARGS &&...) const = 0; };

	template <typename FN>
	struct Fn : Ft
	{
		FN const &_target;

		Fn(FN const &target) : _target(target) { }

		/* 'return' of a void expression is valid C++, so one Fn covers RET = void too */
		RET operator () (ARGS &&... args) const override { return _target(args...); }
	};
};

#endif /* _RTCR_SDK__UTIL__CALLABLE_H_ */
