/*
 * Registries of objects: a Registered<T> is in its registry from
 * construction to destruction; for_each visits the members, newest first.
 */
#ifndef _RTCR_SDK__BASE__REGISTRY_H_
#define _RTCR_SDK__BASE__REGISTRY_H_

#include <util/noncopyable.h>

namespace Genode {
	template <typename> struct Registry;
	template <typename> class Registered;
}

template <typename T>
struct Genode::Registry : Noncopyable
{
	struct Element : Noncopyable
	{
		Registry &_registry;
		T        &_object;
		Element  *_next = nullptr;

		Element(Registry &registry, T &object) : _registry(registry), _object(object)
		{
			_next = registry._first;
			registry._first = this;
		}

		~Element()
		{
			for (Element **at = &_registry._first; *at; at = &(*at)->_next)
				if (*at == this) { *at = _next; return; }
		}
	};

	Element *_first = nullptr;

	Registry() { }

	/* `fn` may destroy the member it is given: the next one is taken first. */
	void for_each(auto const &fn)
	{
		for (Element *e = _first, *next = nullptr; e; e = next) {
			next = e->_next;
			fn(e->_object);
		}
	}

	void for_each(auto const &fn) const
	{
		for (Element const *e = _first; e; e = e->_next)
			fn(static_cast<T const &>(e->_object));
	}
};

template <typename T>
class Genode::Registered : public T
{
	private:

		typename Registry<Registered<T>>::Element _element;

	public:

		Registered(Registry<Registered<T>> &registry, auto &&... args)
		: T(args...), _element(registry, *this) { }
};

#endif /* _RTCR_SDK__BASE__REGISTRY_H_ */
