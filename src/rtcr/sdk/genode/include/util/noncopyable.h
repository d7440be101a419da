/*
 * Base class of types whose objects must not be copied.
 */
#ifndef _RTCR_SDK__UTIL__NONCOPYABLE_H_
#define _RTCR_SDK__UTIL__NONCOPYABLE_H_

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

#endif /* _RTCR_SDK__UTIL__NONCOPYABLE_H_ */
