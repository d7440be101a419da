/*
 * Entrypoints of the Genode API: a thread that dispatches the signals of
 * the handlers it manages.
 *
 * Each entrypoint has its own signal receiver; a handler managed by it is
 * a signal context at that receiver, so its signals wake only this
 * entrypoint's thread.  Env::ep() is the component's main thread, which
 * dispatches once Component::construct has returned; any other
 * Entrypoint runs a thread of its own.
 */
#ifndef _RTCR_SDK__BASE__ENTRYPOINT_H_
#define _RTCR_SDK__BASE__ENTRYPOINT_H_

#include <util/noncopyable.h>
#include <util/reconstructible.h>
#include <base/log.h>
#include <base/signal.h>
#include <base/rpc_server.h>
#include <base/thread.h>
#include <rtcr/genode.h>

namespace Genode {
	class Entrypoint;
	class Env;
	struct Startup;
}

class Genode::Entrypoint : Noncopyable
{
	public:

		struct Io_progress_handler : Interface
		{
			virtual void handle_io_progress() = 0;
		};

	private:

		struct Ep_thread : Thread
		{
			Entrypoint &ep;
			Ep_thread(Env &env, Entrypoint &ep, size_t stack_size, char const *name)
			: Thread(env, name, stack_size), ep(ep) { }
			void entry() override;
		};

		long _receiver;
		Rtcr::Yield_lock _lock { };
		Signal_context *_contexts = nullptr;
		unsigned _deferred = 0;   /* App signals held back by an Io wait */
		Io_progress_handler *_io_progress_handler = nullptr;
		Constructible<Ep_thread> _thread { };
		Rpc_entrypoint _rpc_ep { *this };

		Signal_context *_find(long selector);
		void _dispatch(Signal_context &, bool defer_app);
		bool _dispatch_deferred();

		friend struct Startup;
		struct Main { };
		explicit Entrypoint(Main);   /* Env::ep(): the main thread */

	public:

		Entrypoint(Env &env, size_t stack_size, char const *name, Affinity::Location);

		~Entrypoint();

		Signal_context_capability manage(Signal_dispatcher_base &);
		void dissolve(Signal_dispatcher_base &);

		/* The RPC side of the entrypoint (rtcr serves no RPC: only named). */
		Rpc_entrypoint &rpc_ep() { return _rpc_ep; }

		/* Wait for the next signal and dispatch it (App signals are deferred). */
		void wait_and_dispatch_one_io_signal() { _wait_and_dispatch_one(true, false); }

		/* Dispatch one pending Io signal without waiting; whether there was one. */
		bool dispatch_pending_io_signal();

		/* Dispatch signals forever (the main thread after construct). */
		[[noreturn]] void dispatch_forever();

		void register_io_progress_handler(Io_progress_handler &handler)
		{
			_io_progress_handler = &handler;
		}

	private:

		bool _wait_and_dispatch_one(bool io_only, bool dont_block);
};

#endif /* _RTCR_SDK__BASE__ENTRYPOINT_H_ */
