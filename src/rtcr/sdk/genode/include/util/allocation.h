/*
 * An allocation as a scope guard: whoever holds the object owns the memory
 * (or capability, or range) and gives it back by dropping the object.  An
 * owner that hands the resource on for good clears 'deallocate'.
 *
 * ALLOC has to provide Attr (what was allocated), Error and
 * _free(Allocation &); the underscore keeps _free out of the API, only this
 * guard and allocator wrappers call it.
 */
#ifndef _RTCR_SDK__UTIL__ALLOCATION_H_
#define _RTCR_SDK__UTIL__ALLOCATION_H_

#include <util/attempt.h>

namespace Genode { template <typename> class Allocation; }

template <typename ALLOC>
class Genode::Allocation : Noncopyable, public ALLOC::Attr
{
	private:

		ALLOC &_owner;   /* receives the resource back */

	public:

		using Attr  = typename ALLOC::Attr;
		using Error = typename ALLOC::Error;

		bool deallocate = true;

		Allocation(ALLOC &owner, Attr attr) : Attr(attr), _owner(owner) { }

		~Allocation()
		{
			if (deallocate)
				_owner._free(*this);
		}

		struct Attempt;
};

/*
 * The allocator's result: either the guard itself or the reason there is
 * none.  It cannot be copied (two guards would free twice) but it can be
 * assigned from a temporary, which is how results land in members.
 */
template <typename ALLOC>
struct Genode::Allocation<ALLOC>::Attempt : Unique_attempt<Allocation, Error>
{
	private:

		using Base = Unique_attempt<Allocation, Error>;

		/*
		 * Rebuild the donor's guard here and disarm the donor's, so the
		 * resource is freed exactly once, by whichever guard dies last.
		 */
		void _take_over(Attempt &donor)
		{
			Error reason { };
			bool const moved = donor.template convert<bool>(
				[&] (Allocation &from) {
					this->_construct(from._owner, from);
					from.deallocate = false;
					return true; },
				[&] (Error e) { reason = e; return false; });

			if (!moved)
				this->_destruct(reason);

			donor._destruct(Error { });
		}

	public:

		Attempt(ALLOC &owner, Attr attr) : Base(owner, attr) { }
		Attempt(Error reason)            : Base(reason) { }
		Attempt()                        : Base(Error { }) { }

		Attempt &operator = (Attempt &&donor)
		{
			_take_over(donor);
			return *this;
		}
};

#endif /* _RTCR_SDK__UTIL__ALLOCATION_H_ */
