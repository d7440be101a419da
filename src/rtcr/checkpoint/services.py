"""A scenario's services: the one way its components find each other's capabilities.

A component announces a dataspace or signal context under a service name
its start node provides; a component whose route names that provider for
the service gets it (its own selector is installed by the system call).
The runtime keeps this table, and the image keeps it with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rtcr.core import Dataspace, SignalContext
from rtcr.errors import Denied, NotYet


@dataclass
class Services:
    """A scenario's services: who may announce what, the routes, what was announced.

    Components are named by their start nodes' names (unique in a scenario).
    """

    provides: dict[str, tuple[str, ...]]  # component -> services it may announce
    routes: dict[tuple[str, str], str]  # (component, service) -> the component providing it
    announced: dict[tuple[str, str], Dataspace | SignalContext] = field(default_factory=dict)

    def unannounced(self) -> Services:
        """The same routes with nothing announced: the services of a new run."""
        return Services(dict(self.provides), dict(self.routes))

    def announce(self, component: str, service: str, obj: Dataspace | SignalContext) -> None:
        if service not in self.provides.get(component, ()):
            raise Denied(f"{component} may not announce {service!r}: its start node does not "
                         f"<provide> it")
        self.announced[component, service] = obj

    def request(self, component: str, service: str) -> Dataspace | SignalContext:
        provider = self.routes.get((component, service))
        if provider is None:
            raise Denied(f"{component} has no route to a service {service!r}")
        obj = self.announced.get((provider, service))
        if obj is None:
            raise NotYet(f"{provider} has not announced {service!r} yet")
        return obj
