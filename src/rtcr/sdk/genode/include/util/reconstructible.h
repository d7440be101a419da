/*
 * In-place construction and destruction of an object member.
 *
 * Reconstructible<T> holds a T from the start and can replace it;
 * Constructible<T> starts empty.  Accessing an empty one is an error
 * (Unexpected_error::ACCESS_UNCONSTRUCTED_OBJ).
 */
#ifndef _RTCR_SDK__UTIL__RECONSTRUCTIBLE_H_
#define _RTCR_SDK__UTIL__RECONSTRUCTIBLE_H_

#include <new>
#include <util/noncopyable.h>
#include <base/error.h>

namespace Genode {
	template <typename> class Reconstructible;
	template <typename> class Constructible;
}

/*
 * Inside the class, the member print() hides Genode's free print()s, and
 * base/output.h cannot be included here (it needs this header).  From
 * namespace scope the call finds them by argument-dependent lookup when
 * it is instantiated.
 */
namespace Genode::Reconstructible_print {
	void to(auto &out, auto const &value) { print(out, value); }
}

template <typename MT>
class Genode::Reconstructible : Noncopyable
{
	private:

		alignas(MT) unsigned char _storage[sizeof(MT)];
		bool _live = false;

		MT       &_object()       { return *reinterpret_cast<MT *>(_storage); }
		MT const &_object() const { return *reinterpret_cast<MT const *>(_storage); }

		/* reaching into an empty slot is a bug of the component: say so loudly */
		void _require_live() const
		{
			if (_live)
				return;
			raise(Unexpected_error::ACCESS_UNCONSTRUCTED_OBJ);
		}

	protected:

		/* Constructible's way in: start empty instead of default-constructing MT */
		struct Lazy { };
		explicit Reconstructible(Lazy *) { }

	public:

		template <typename... ARGS>
		Reconstructible(ARGS &&... args) { construct(static_cast<ARGS &&>(args)...); }

		~Reconstructible() { if (_live) _object().~MT(); }

		template <typename... ARGS>
		void construct(ARGS &&... args)
		{
			/* the previous object must end before its successor takes its bytes */
			destruct();
			::new (static_cast<void *>(_storage)) MT(static_cast<ARGS &&>(args)...);
			_live = true;
		}

		void destruct()
		{
			/* cleared first: MT's destructor may ask its holder constructed() */
			bool const had_object = _live;
			_live = false;
			if (had_object)
				_object().~MT();
		}

		bool constructed() const { return _live; }

		void conditional(bool condition, auto &&... args)
		{
			if (condition == _live)
				return;   /* already as wanted: leave the object alone */
			if (condition) construct(args...); else destruct();
		}

		MT       *operator -> ()       { _require_live(); return &_object(); }
		MT const *operator -> () const { _require_live(); return &_object(); }
		MT       &operator *  ()       { _require_live(); return _object(); }
		MT const &operator *  () const { _require_live(); return _object(); }

		void print(auto &out) const
		{
			if (_live) Reconstructible_print::to(out, _object());
			else       Reconstructible_print::to(out, "<unconstructed>");
		}
};

template <typename MT>
class Genode::Constructible : public Reconstructible<MT>
{
	private:

		using Lazy = typename Reconstructible<MT>::Lazy;

	public:

		Constructible() : Reconstructible<MT>(static_cast<Lazy *>(nullptr)) { }
};

#endif /* _RTCR_SDK__UTIL__RECONSTRUCTIBLE_H_ */
