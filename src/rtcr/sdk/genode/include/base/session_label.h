/*
 * The label of a session: who asked for it, as the parent sees it.
 */
#ifndef _INCLUDE__BASE__SESSION_LABEL_H_
#define _INCLUDE__BASE__SESSION_LABEL_H_

#include <util/string.h>

namespace Genode { using Session_label = String<160>; }

#endif /* _INCLUDE__BASE__SESSION_LABEL_H_ */
