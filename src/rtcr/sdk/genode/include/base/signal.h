/*
 * Signals of the Genode API.
 *
 * A Signal_handler is a signal context managed by an entrypoint: each
 * entrypoint has its own signal receiver on rtcr (rtcr_signal_receiver),
 * so a handler's method runs on its own entrypoint's thread only.
 */
#ifndef _RTCR_SDK__BASE__SIGNAL_H_
#define _RTCR_SDK__BASE__SIGNAL_H_

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

	protected:

		/* for handlers whose level is fixed before the entrypoint sees them */
		explicit Signal_context(Level level) : _level(level) { }

	public:

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

/* what the entrypoint calls when a context it manages got signals */
struct Genode::Signal_dispatcher_base : Signal_context
{
	using Signal_context::Signal_context;

	virtual void dispatch(unsigned num) = 0;
};

/*
 * Binds a member function of T to a signal context of entrypoint EP for the
 * handler's lifetime.  Copying is ruled out by Signal_context already: a
 * copy would be a second context nobody registered.
 */
template <typename T, typename EP = Genode::Entrypoint>
class Genode::Signal_handler : public Signal_dispatcher_base
{
	private:

		using Method = void (T::*)();

		EP     &_home;
		T      &_receiver;
		Method  _method;

		/*
		 * Declared last so it is initialised last: the entrypoint may look
		 * at the handler while registering it, so everything else must
		 * be in place by then.
		 */
		Signal_context_capability const _registered;

	protected:

		Signal_handler(EP &ep, T &obj, Method member, Signal_context::Level level)
		:
			Signal_dispatcher_base(level),
			_home(ep), _receiver(obj), _method(member), _registered(_home.manage(*this))
		{ }

	public:

		Signal_handler(EP &ep, T &obj, void (T::*member)())
		: Signal_handler(ep, obj, member, Signal_context::Level::App) { }

		~Signal_handler() { _home.dissolve(*this); }

		/* several submits may arrive as one; the method is called once for all of them */
		void dispatch(unsigned) override { (_receiver.*_method)(); }

		operator Capability<Signal_context>() const { return _registered; }
};

/* A handler the entrypoint may run while it waits for I/O (wait_and_dispatch_one_io_signal). */
template <typename T, typename EP = Genode::Entrypoint>
struct Genode::Io_signal_handler : Signal_handler<T, EP>
{
	Io_signal_handler(EP &ep, T &obj, void (T::*member)())
	: Signal_handler<T, EP>(ep, obj, member, Signal_context::Level::Io) { }
};

#endif /* _RTCR_SDK__BASE__SIGNAL_H_ */
