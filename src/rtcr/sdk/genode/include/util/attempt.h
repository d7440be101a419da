/*
 * Value-or-error results.  Callers never test a flag and then read a field:
 * they hand over one lambda per outcome, so forgetting the error case does
 * not compile.  Attempt keeps a copyable value; Unique_attempt owns a
 * non-copyable one (an Allocation) in place, so it can only be moved by its
 * derived types.
 */
#ifndef _RTCR_SDK__UTIL__ATTEMPT_H_
#define _RTCR_SDK__UTIL__ATTEMPT_H_

#include <util/reconstructible.h>
#include <base/output.h>

namespace Genode {
	template <typename, typename> class [[nodiscard]] Attempt;
	template <typename, typename> class [[nodiscard]] Unique_attempt;
	struct Ok { };
	struct Output;
}

template <typename RESULT, typename ERROR>
class Genode::Attempt
{
	private:

		/*
		 * Both sides are plain values (addresses, enums, Ok), so keeping
		 * both costs a few bytes and spares us union lifetime handling.
		 */
		RESULT _value { };
		ERROR  _fault { };
		bool   _has_value;

		/* the only place that decides which side is live */
		auto _visit(auto const &on_value, auto const &on_fault) const
		{
			if (_has_value)
				return on_value(_value);
			return on_fault(_fault);
		}

	public:

		Attempt(RESULT value) : _value(value), _has_value(true)  { }
		Attempt(ERROR  fault) : _fault(fault), _has_value(false) { }

		Attempt(Attempt const &) = default;
		Attempt &operator = (Attempt const &) = default;

		template <typename RET>
		RET convert(auto const &value_fn, auto const &error_fn) const
		{
			return _visit([&] (RESULT const &v) { return RET { value_fn(v) }; },
			              [&] (ERROR  const &f) { return RET { error_fn(f) }; });
		}

		void with_result(auto const &value_fn, auto const &error_fn) const
		{
			_visit([&] (RESULT const &v) { value_fn(v); },
			       [&] (ERROR  const &f) { error_fn(f); });
		}

		void with_error(auto const &error_fn) const
		{
			_visit([] (RESULT const &) { }, [&] (ERROR const &f) { error_fn(f); });
		}

		bool operator == (ERROR  const &other) const { return !_has_value && _fault == other; }
		bool operator == (RESULT const &other) const { return  _has_value && _value == other; }

		[[nodiscard]] bool ok()     const { return  _has_value; }
		[[nodiscard]] bool failed() const { return !_has_value; }

		void print(auto &out) const
		{
			_visit([&] (RESULT const &v) { Genode::print(out, v); },
			       [&] (ERROR  const &f) { Genode::print(out, f); });
		}
};

template <typename RESULT, typename ERROR>
class Genode::Unique_attempt : Noncopyable
{
	private:

		/* an empty slot means "failed"; the fault is only meaningful then */
		Constructible<RESULT> _slot { };
		ERROR                 _fault { };

		/*
		 * Shared by the const and non-const accessors: the non-const ones
		 * must hand out a mutable RESULT (an Allocation's owner may clear
		 * its 'deallocate'), the const ones must not.
		 */
		static auto _visit(auto &self, auto const &on_value, auto const &on_fault)
		{
			if (self._slot.constructed())
				return on_value(*self._slot);
			return on_fault(self._fault);
		}

	protected:

		/* derived types (Allocation::Attempt) move ownership with these two */
		void _construct(auto &&... args) { _slot.construct(args...); }
		void _destruct(ERROR fault)      { _slot.destruct(); _fault = fault; }

	public:

		Unique_attempt(auto &&... args) { _construct(args...); }
		Unique_attempt(ERROR fault) : _fault(fault) { }

		template <typename RET>
		RET convert(auto const &value_fn, auto const &error_fn)
		{
			return _visit(*this, [&] (RESULT &v)      { return RET { value_fn(v) }; },
			                     [&] (ERROR const &f) { return RET { error_fn(f) }; });
		}

		template <typename RET>
		RET convert(auto const &value_fn, auto const &error_fn) const
		{
			return _visit(*this, [&] (RESULT const &v) { return RET { value_fn(v) }; },
			                     [&] (ERROR  const &f) { return RET { error_fn(f) }; });
		}

		void with_result(auto const &value_fn, auto const &error_fn)
		{
			_visit(*this, [&] (RESULT &v)      { value_fn(v); },
			              [&] (ERROR const &f) { error_fn(f); });
		}

		void with_result(auto const &value_fn, auto const &error_fn) const
		{
			_visit(*this, [&] (RESULT const &v) { value_fn(v); },
			              [&] (ERROR  const &f) { error_fn(f); });
		}

		void with_error(auto const &error_fn) const
		{
			_visit(*this, [] (RESULT const &) { }, [&] (ERROR const &f) { error_fn(f); });
		}

		bool operator == (ERROR const &other) const { return failed() && _fault == other; }

		[[nodiscard]] bool ok()     const { return  _slot.constructed(); }
		[[nodiscard]] bool failed() const { return !_slot.constructed(); }

		void print(auto &out) const
		{
			_visit(*this, [&] (RESULT const &v) { Genode::print(out, v); },
			              [&] (ERROR  const &f) { Genode::print(out, f); });
		}
};

#endif /* _RTCR_SDK__UTIL__ATTEMPT_H_ */
