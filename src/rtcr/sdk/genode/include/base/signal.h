/*
 * Signals of the Genode API.
 *
 * A Signal_handler is a signal context managed by an entrypoint: each
 * entrypoint has its own signal receiver on rtcr (rtcr_signal_receiver),
 * so a handler's method runs on its own entrypoint's thread only.
 */
#ifndef _INCLUDE__BASE__SIGNAL_H_
#define _INCLUDE__BASE__SIGNAL_H_

#include <util/noncopyable.h>
#include <base/capability.h>
#include <base/exception.h>

namespace Genode {
	class Entrypoint;
	class Signal_context;
	class Signal_transmitter;
	class Signal_dispatcher_base;
	template <typename, typename> class Signal_handler;
	template <typename, typename> class Io_signal_handler;
	using Signal_context_capability = Capability<Signal_context>;
}

class Genode::Signal_context : Interface, Noncopyable
{
	public:

		enum class Level { App, Io };

	protected:

		Level _level = Level::App;

	private:

		friend class Entrypoint;
		Signal_context *_next = nullptr;   /* in the entrypoint's list */
		long _selector = 0;                /* the context's capability selector */
		unsigned _deferred = 0;            /* App signals that arrived during an Io wait */

	public:

		Signal_context() { }
		virtual ~Signal_context() { }

		Level level() const { return _level; }
};

/* Submits signals to a context. */
class Genode::Signal_transmitter
{
	private:

		Signal_context_capability _context { };

	public:

		Signal_transmitter(Signal_context_capability context = Signal_context_capability())
		: _context(context) { }

		void context(Signal_context_capability context) { _context = context; }
		Signal_context_capability context() { return _context; }

		void submit(unsigned cnt = 1);
};

struct Genode::Signal_dispatcher_base : Signal_context
{
	virtual void dispatch(unsigned num) = 0;
};

template <typename T, typename EP = Genode::Entrypoint>
class Genode::Signal_handler : public Signal_dispatcher_base
{
	private:

		Signal_context_capability _cap;
		EP &_ep;
		T  &_obj;
		void (T::*_member) ();

		Signal_handler(Signal_handler const &);
		Signal_handler &operator = (Signal_handler const &);

	public:

		Signal_handler(EP &ep, T &obj, void (T::*member)())
		: _cap(ep.manage(*this)), _ep(ep), _obj(obj), _member(member) { }

		~Signal_handler() { _ep.dissolve(*this); }

		void dispatch(unsigned) override { (_obj.*_member)(); }

		operator Capability<Signal_context>() const { return _cap; }
};

template <typename T, typename EP = Genode::Entrypoint>
struct Genode::Io_signal_handler : Signal_handler<T, EP>
{
	Io_signal_handler(EP &ep, T &obj, void (T::*member)())
	: Signal_handler<T, EP>(ep, obj, member)
	{
		Signal_context::_level = Signal_context::Level::Io;
	}
};

#endif /* _INCLUDE__BASE__SIGNAL_H_ */
