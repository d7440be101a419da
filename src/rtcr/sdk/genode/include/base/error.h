/*
 * Error values of the Genode API.
 */
#ifndef _RTCR_SDK__BASE__ERROR_H_
#define _RTCR_SDK__BASE__ERROR_H_

namespace Genode {

	enum class Alloc_error { OUT_OF_RAM, OUT_OF_CAPS, DENIED };
	enum class Buffer_error { EXCEEDED };
	enum class Session_error { DENIED, OUT_OF_RAM, OUT_OF_CAPS, INSUFFICIENT_RAM,
	                           INSUFFICIENT_CAPS };
	enum class Unexpected_error { INDEX_OUT_OF_BOUNDS, NONEXISTENT_SUB_NODE,
	                              ACCESS_UNCONSTRUCTED_OBJ, IPC_BUFFER_EXCEEDED };

	/* Throw the exception that stands for the error (base/exception.h). */
	void raise(Alloc_error) __attribute__((noreturn));
	void raise(Unexpected_error) __attribute__((noreturn));
}

#endif /* _RTCR_SDK__BASE__ERROR_H_ */
