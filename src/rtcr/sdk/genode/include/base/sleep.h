/*
 * Block the calling thread for good (rtcr reports a component whose
 * threads all do so, or wait for signals nothing can send, as idle).
 */
#ifndef _RTCR_SDK__BASE__SLEEP_H_
#define _RTCR_SDK__BASE__SLEEP_H_

namespace Genode { __attribute__((noreturn)) void sleep_forever(); }

#endif /* _RTCR_SDK__BASE__SLEEP_H_ */
