/*
 * The component's protection domain (Env::pd()): RAM, its quotas, sealing.
 */
#ifndef _INCLUDE__PD_SESSION__PD_SESSION_H_
#define _INCLUDE__PD_SESSION__PD_SESSION_H_

#include <base/ram_allocator.h>
#include <region_map/region_map.h>

namespace Genode { struct Pd_session; }

struct Genode::Pd_session : Interface
{
	using Alloc_ram_result = Attempt<Ram_dataspace_capability, Alloc_error>;

	Alloc_ram_result alloc_ram(size_t size, Cache cache = CACHED);
	void   free_ram(Ram_dataspace_capability ds);
	size_t ram_size(Ram_dataspace_capability ds);

	/*
	 * Make every later attach of the dataspace read-only (Genode's seal:
	 * existing attachments keep their rights).
	 */
	void seal_ram(Ram_dataspace_capability ds);

	/* rtcr's stronger variant: also downgrade every existing writable mapping. */
	void seal_ram_revoking(Ram_dataspace_capability ds);

	Capability<Region_map> address_space();

	Ram_quota ram_quota() const;
	Ram_quota used_ram()  const;
	Ram_quota avail_ram() const;
	Cap_quota cap_quota() const;
	Cap_quota used_caps() const;
	Cap_quota avail_caps() const;
};

#endif /* _INCLUDE__PD_SESSION__PD_SESSION_H_ */
