/*
 * Results that are either a value or an error, to be looked at with
 * with_result/convert/with_error.  Attempt<RESULT, ERROR> copies its value;
 * Unique_attempt holds a non-copyable result (an Allocation) in place.
 */
#ifndef _INCLUDE__UTIL__ATTEMPT_H_
#define _INCLUDE__UTIL__ATTEMPT_H_

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

		bool   _ok;
		RESULT _result { };
		ERROR  _error  { };

	public:

		Attempt(RESULT result) : _ok(true),  _result(result) { }
		Attempt(ERROR  error)  : _ok(false), _error(error)   { }

		Attempt(Attempt const &) = default;
		Attempt &operator = (Attempt const &) = default;

		template <typename RET>
		RET convert(auto const &access_fn, auto const &fail_fn) const
		{
			if (_ok) return RET { access_fn(_result) };
			return RET { fail_fn(_error) };
		}

		void with_result(auto const &access_fn, auto const &fail_fn) const
		{
			if (_ok) access_fn(_result); else fail_fn(_error);
		}

		void with_error(auto const &fail_fn) const { if (!_ok) fail_fn(_error); }

		bool operator == (ERROR const &rhs) const { return !_ok && _error == rhs; }
		bool operator == (RESULT const &rhs) const { return _ok && _result == rhs; }

		[[nodiscard]] bool ok()     const { return  _ok; }
		[[nodiscard]] bool failed() const { return !_ok; }

		void print(auto &out) const
		{
			with_result([&] (RESULT const &r) { Genode::print(out, r); },
			            [&] (ERROR  const &e) { Genode::print(out, e); });
		}
};

template <typename RESULT, typename ERROR>
class Genode::Unique_attempt : Noncopyable
{
	private:

		Constructible<RESULT> _result { };
		ERROR _error { };

	protected:

		void _construct(auto &&... args) { _result.construct(args...); }
		void _destruct(ERROR e)          { _result.destruct(); _error = e; }

	public:

		Unique_attempt(auto &&... args) { _result.construct(args...); }
		Unique_attempt(ERROR error)     { _destruct(error); }

		template <typename RET>
		RET convert(auto const &access_fn, auto const &fail_fn)
		{
			if (_result.constructed()) return RET { access_fn(*_result) };
			return RET { fail_fn(_error) };
		}

		template <typename RET>
		RET convert(auto const &access_fn, auto const &fail_fn) const
		{
			if (_result.constructed()) return RET { access_fn(*_result) };
			return RET { fail_fn(_error) };
		}

		void with_result(auto const &access_fn, auto const &fail_fn)
		{
			if (_result.constructed()) access_fn(*_result); else fail_fn(_error);
		}

		void with_result(auto const &access_fn, auto const &fail_fn) const
		{
			if (_result.constructed()) access_fn(*_result); else fail_fn(_error);
		}

		void with_error(auto const &fail_fn) const
		{
			if (!_result.constructed()) fail_fn(_error);
		}

		bool operator == (ERROR const &rhs) const { return failed() && _error == rhs; }

		[[nodiscard]] bool ok()     const { return  _result.constructed(); }
		[[nodiscard]] bool failed() const { return !_result.constructed(); }

		void print(auto &out) const
		{
			with_result([&] (RESULT const &r) { Genode::print(out, r); },
			            [&] (ERROR  const &e) { Genode::print(out, e); });
		}
};

#endif /* _INCLUDE__UTIL__ATTEMPT_H_ */
