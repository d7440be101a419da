/*
 * An allocation that gives itself back when it goes out of scope, unless
 * its owner clears `deallocate`.  ALLOC provides Attr (what the allocation
 * is), Error, and _free(Allocation &).
 */
#ifndef _INCLUDE__UTIL__ALLOCATION_H_
#define _INCLUDE__UTIL__ALLOCATION_H_

#include <util/attempt.h>

namespace Genode { template <typename> class Allocation; }

template <typename ALLOC>
class Genode::Allocation : Noncopyable, public ALLOC::Attr
{
	private:

		ALLOC &_alloc;

	public:

		using Attr  = typename ALLOC::Attr;
		using Error = typename ALLOC::Error;

		bool deallocate = true;

		Allocation(ALLOC &alloc, Attr attr) : Attr(attr), _alloc(alloc) { }

		~Allocation() { if (deallocate) _alloc._free(*this); }

		struct Attempt;
};

template <typename ALLOC>
struct Genode::Allocation<ALLOC>::Attempt : Unique_attempt<Allocation, Error>
{
	Attempt(ALLOC &alloc, Attr a) : Unique_attempt<Allocation, Error>(alloc, a) { }
	Attempt(Error e)              : Unique_attempt<Allocation, Error>(e) { }
	Attempt()                     : Unique_attempt<Allocation, Error>(Error { }) { }

	/* Moving hands the allocation over: only the target gives it back. */
	Attempt &operator = (Attempt &&other)
	{
		other.with_result(
			[&] (Allocation &a) { this->_construct(a._alloc, a); a.deallocate = false; },
			[&] (Error e)       { this->_destruct(e); });
		other._destruct(Error { });
		return *this;
	}
};

#endif /* _INCLUDE__UTIL__ALLOCATION_H_ */
