/*
 * Threads: a Genode Thread is a machine thread of the component; its
 * object is found again through the SDK's per-thread words.
 */
#include <base/thread.h>
#include <base/env.h>
#include <base/log.h>
#include <rtcr/genode.h>

using namespace Genode;

Thread::Thread(Main) : name("main"), _stack_size(0), _tid(rtcr_thread_self())
{
	rtcr_thread_words()[Rtcr::THREAD_WORD_GENODE] = this;
}

Thread::Thread(Env &, Name const &name, Stack_size size, Location)
: name(name), _stack_size(size.num_bytes) { }

Thread::Thread(Env &env, Name const &name, size_t stack_size, Location location)
: Thread(env, name, Stack_size { stack_size }, location) { }

Thread::Thread(Env &env, Name const &name, size_t stack_size, Location location, int, void *)
: Thread(env, name, Stack_size { stack_size }, location) { }

Thread::~Thread()
{
	if (_tid && !_finished && _tid != rtcr_thread_self())
		rtcr_thread_kill(_tid);
}

void Thread::_trampoline(void *arg)
{
	Thread &thread = *static_cast<Thread *>(arg);
	rtcr_thread_words()[Rtcr::THREAD_WORD_GENODE] = &thread;
	thread.entry();
	__atomic_store_n(&thread._finished, true, __ATOMIC_RELEASE);
}

Thread::Start_result Thread::start()
{
	if (_tid)
		return Start_result::DENIED;
	long tid = rtcr_thread_create_named(_trampoline, this, _stack_size, name.string());
	if (tid < 0) {
		error("cannot start thread ", name, " (error ", -tid, ")");
		return Start_result::DENIED;
	}
	_tid = tid;
	return Start_result::OK;
}

void Thread::join()
{
	if (_tid)
		rtcr_thread_join(_tid);
}

Thread *Thread::myself()
{
	return static_cast<Thread *>(rtcr_thread_words()[Rtcr::THREAD_WORD_GENODE]);
}
