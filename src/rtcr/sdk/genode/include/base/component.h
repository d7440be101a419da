/*
 * The entry of a Genode component: Component::construct(env), called on
 * the main thread, which then dispatches the signals of Env::ep().
 */
#ifndef _RTCR_SDK__BASE__COMPONENT_H_
#define _RTCR_SDK__BASE__COMPONENT_H_

#include <base/env.h>
#include <base/stdint.h>

namespace Component
{
	/* Stack size of the main entrypoint; the machine gives the main thread 256 KiB. */
	Genode::size_t stack_size();

	void construct(Genode::Env &env);
}

#endif /* _RTCR_SDK__BASE__COMPONENT_H_ */
