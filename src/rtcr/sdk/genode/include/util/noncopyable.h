/*
 * Base class of types whose objects must not be copied.
 */
#ifndef _INCLUDE__UTIL__NONCOPYABLE_H_
#define _INCLUDE__UTIL__NONCOPYABLE_H_

namespace Genode {

	class Noncopyable
	{
		public:
			Noncopyable(Noncopyable const &) = delete;
			Noncopyable &operator = (Noncopyable const &) = delete;

		protected:
			Noncopyable() { }
			~Noncopyable() { }
	};
}

#endif /* _INCLUDE__UTIL__NONCOPYABLE_H_ */
