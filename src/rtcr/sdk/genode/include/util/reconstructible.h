/*
 * In-place construction and destruction of an object member.
 *
 * Reconstructible<T> holds a T from the start and can replace it;
 * Constructible<T> starts empty.  Accessing an empty one is an error
 * (Unexpected_error::ACCESS_UNCONSTRUCTED_OBJ).
 */
#ifndef _INCLUDE__UTIL__RECONSTRUCTIBLE_H_
#define _INCLUDE__UTIL__RECONSTRUCTIBLE_H_

#include <new>
#include <util/noncopyable.h>
#include <base/error.h>

namespace Genode {
	template <typename> class Reconstructible;
	template <typename> class Constructible;
}

template <typename MT>
class Genode::Reconstructible : Noncopyable
{
	private:

		alignas(MT) unsigned char _space[sizeof(MT)];
		bool _constructed = false;

		MT       *_ptr()       { return reinterpret_cast<MT *>(_space); }
		MT const *_ptr() const { return reinterpret_cast<MT const *>(_space); }

		void _check() const
		{
			if (!_constructed)
				raise(Unexpected_error::ACCESS_UNCONSTRUCTED_OBJ);
		}

	protected:

		struct Lazy { };
		explicit Reconstructible(Lazy *) { }

	public:

		template <typename... ARGS>
		Reconstructible(ARGS &&... args) { construct(static_cast<ARGS &&>(args)...); }

		~Reconstructible() { destruct(); }

		template <typename... ARGS>
		void construct(ARGS &&... args)
		{
			destruct();
			new (_space) MT(static_cast<ARGS &&>(args)...);
			_constructed = true;
		}

		void destruct()
		{
			if (!_constructed)
				return;
			_constructed = false;
			_ptr()->~MT();
		}

		bool constructed() const { return _constructed; }

		void conditional(bool condition, auto &&... args)
		{
			if (condition && !constructed())
				construct(args...);
			if (!condition && constructed())
				destruct();
		}

		MT       *operator -> ()       { _check(); return _ptr(); }
		MT const *operator -> () const { _check(); return _ptr(); }
		MT       &operator *  ()       { _check(); return *_ptr(); }
		MT const &operator *  () const { _check(); return *_ptr(); }

		void print(auto &out) const
		{
			if (_constructed) print(out, *_ptr()); else print(out, "<unconstructed>");
		}
};

template <typename MT>
class Genode::Constructible : public Reconstructible<MT>
{
	public:

		Constructible()
		: Reconstructible<MT>((typename Reconstructible<MT>::Lazy *)nullptr) { }
};

#endif /* _INCLUDE__UTIL__RECONSTRUCTIBLE_H_ */
