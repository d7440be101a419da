/*
 * Entrypoints and signal delivery.
 *
 * An entrypoint owns a signal receiver of the machine; manage() makes a
 * signal context at it and links the handler into the entrypoint's list
 * (guarded by a yield lock, since any thread may manage or dissolve).  The
 * dispatch loop waits at the receiver and calls the handler whose context
 * fired; a signal for a dissolved handler is dropped.
 */
#include <base/entrypoint.h>
#include <base/env.h>
#include <base/log.h>
#include <base/sleep.h>
#include <rtcr/genode.h>

using namespace Genode;

void Signal_transmitter::submit(unsigned cnt)
{
	for (unsigned i = 0; i < cnt; i++)
		rtcr_signal_submit(_context.selector());
}

Entrypoint::Entrypoint(Main) : _receiver(rtcr_signal_receiver())
{
	if (_receiver < 0) {
		error("no signal receiver for the main entrypoint (error ", -_receiver, ")");
		rtcr_exit(1);
	}
}

Entrypoint::Entrypoint(Env &env, size_t stack_size, char const *name, Affinity::Location)
: _receiver(rtcr_signal_receiver())
{
	if (_receiver < 0) {
		error("no signal receiver for entrypoint ", name, " (error ", -_receiver, ")");
		throw Out_of_caps();
	}
	_thread.construct(env, *this, stack_size, name);
	_thread->start();
}

Entrypoint::~Entrypoint()
{
	/* ~Thread kills the dispatching thread (it is waiting or working). */
	_thread.destruct();
}

void Entrypoint::Ep_thread::entry() { ep.dispatch_forever(); }

Signal_context_capability Entrypoint::manage(Signal_dispatcher_base &context)
{
	long selector = rtcr_signal_context_at(_receiver);
	if (selector < 0) {
		error("cannot create a signal context (error ", -selector, ")");
		throw Out_of_caps();
	}
	Rtcr::Yield_lock::Guard guard(_lock);
	context._selector = selector;
	context._next = _contexts;
	_contexts = &context;
	return Signal_context_capability(selector);
}

void Entrypoint::dissolve(Signal_dispatcher_base &context)
{
	Rtcr::Yield_lock::Guard guard(_lock);
	for (Signal_context **at = &_contexts; *at; at = &(*at)->_next)
		if (*at == &context) {
			*at = context._next;
			context._next = nullptr;
			rtcr_signal_free(context._selector);   /* Genode's free_context */
			context._selector = 0;
			return;
		}
}

Signal_context *Entrypoint::_find(long selector)
{
	Rtcr::Yield_lock::Guard guard(_lock);
	for (Signal_context *c = _contexts; c; c = c->_next)
		if (c->_selector == selector)
			return c;
	return nullptr;
}

void Entrypoint::_dispatch(Signal_context &context, bool defer_app)
{
	if (defer_app && context.level() == Signal_context::Level::App) {
		context._deferred++;
		_deferred++;
		return;
	}
	static_cast<Signal_dispatcher_base &>(context).dispatch(1);
	if (context.level() == Signal_context::Level::Io && _io_progress_handler)
		_io_progress_handler->handle_io_progress();
}

bool Entrypoint::_dispatch_deferred()
{
	if (!_deferred)
		return false;
	Signal_context *found = nullptr;
	{
		Rtcr::Yield_lock::Guard guard(_lock);
		for (Signal_context *c = _contexts; c && !found; c = c->_next)
			if (c->_deferred) found = c;
		if (!found) {
			_deferred = 0;   /* their handlers were dissolved meanwhile */
			return false;
		}
		found->_deferred--;
		_deferred--;
	}
	_dispatch(*found, false);
	return true;
}

bool Entrypoint::_wait_and_dispatch_one(bool io_only, bool dont_block)
{
	if (dont_block)
		return false;   /* the machine has no poll: nothing is pending without a wait */
	long selector = rtcr_signal_wait_at(_receiver);
	if (selector < 0)
		return false;
	Signal_context *context = _find(selector);
	if (context)
		_dispatch(*context, io_only);
	return context != nullptr;
}

bool Entrypoint::dispatch_pending_io_signal() { return _wait_and_dispatch_one(true, true); }

void Entrypoint::dispatch_forever()
{
	for (;;) {
		while (_dispatch_deferred()) ;
		_wait_and_dispatch_one(false, false);
	}
}

void Genode::sleep_forever()
{
	/* A receiver of its own that nothing signals: the thread waits for good. */
	long receiver = rtcr_signal_receiver();
	for (;;) {
		if (receiver >= 0)
			rtcr_signal_wait_at(receiver);
		else
			rtcr_sleep_us(1UL << 39);   /* no receiver left: sleep as long as allowed */
	}
}
