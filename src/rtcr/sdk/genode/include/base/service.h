/*
 * Services a parent routes its children's session requests to.  On rtcr a
 * child's sessions are opened at the machine by the child itself; a
 * Parent_service names the parent's service of that name, and a route to it
 * is honoured (a ROM route opens the ROM by the route's label).
 */
#ifndef _RTCR_SDK__BASE__SERVICE_H_
#define _RTCR_SDK__BASE__SERVICE_H_

#include <util/noncopyable.h>
#include <util/interface.h>
#include <base/env.h>
#include <session/session.h>

namespace Genode {
	class Service;
	class Parent_service;
}

class Genode::Service : public Interface, Noncopyable
{
	public:

		using Name = Session::Name;

	private:

		Name const _name;

	public:

		Service(Name const &name) : _name(name) { }

		virtual ~Service() { }

		Name const &name() const { return _name; }

		/* Whether the parent's own service serves it (rtcr: the only kind). */
		virtual bool parent() const { return false; }
};

class Genode::Parent_service : public Service
{
	public:

		Parent_service(Env &, Service::Name const &name) : Service(name) { }

		bool parent() const override { return true; }
};

#endif /* _RTCR_SDK__BASE__SERVICE_H_ */
