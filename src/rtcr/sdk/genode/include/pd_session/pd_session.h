/*
 * PD sessions: a protection domain's RAM, its quotas and their transfer.
 *
 * Env::pd() is the component's own PD; a Pd_connection opens another one
 * (pd_session/connection.h).  Quota moves only between a PD and its
 * reference account; RAM allocated on a PD is charged to it, and only that
 * PD may free or seal it (a foreign dataspace is left untouched).
 */
#ifndef _RTCR_SDK__PD_SESSION__PD_SESSION_H_
#define _RTCR_SDK__PD_SESSION__PD_SESSION_H_

#include <util/noncopyable.h>
#include <base/ram_allocator.h>
#include <region_map/region_map.h>

namespace Genode {
	struct Pd_account;
	struct Pd_session;
	struct Pd_ram_allocator;
	struct Pd_session_client;
}

struct Genode::Pd_account : Interface, Noncopyable
{
	static const char *service_name() { return "PD"; }

	enum class Transfer_result { OK, EXCEEDED, INVALID };

	Transfer_result transfer_quota(Capability<Pd_account> to, Cap_quota amount);
	Transfer_result transfer_quota(Capability<Pd_account> to, Ram_quota amount);

	/*
	 * rtcr: the selector of the PD's capability; 0 stands for the
	 * component's own PD, whose selector is asked for on first use.
	 */
	long mutable _sel = 0;

	long _pd() const;

	Pd_account() { }
	explicit Pd_account(long selector) : _sel(selector > 0 ? selector : -1) { }
};

struct Genode::Pd_session : Pd_account
{
	/* The session quota a new PD takes from the PD that opens it. */
	static constexpr unsigned CAP_QUOTA = 6 + 7;
	static constexpr size_t   RAM_QUOTA = 24*1024*sizeof(long);

	using Client = Pd_session_client;

	Pd_session() { }
	explicit Pd_session(long selector) : Pd_account(selector) { }

	using Alloc_ram_result = Attempt<Ram_dataspace_capability, Alloc_error>;

	Alloc_ram_result alloc_ram(size_t size, Cache cache = CACHED);

	/* Only the PD that allocated `ds` frees it; any other leaves it alone. */
	void   free_ram(Ram_dataspace_capability ds);

	/* Bytes of `ds` if this PD owns it, else 0. */
	size_t ram_size(Ram_dataspace_capability ds);

	/*
	 * Make every later attach of the dataspace read-only (Genode's seal:
	 * existing attachments keep their rights).
	 */
	void seal_ram(Ram_dataspace_capability ds);

	/* rtcr's stronger variant: also downgrade every existing writable mapping. */
	void seal_ram_revoking(Ram_dataspace_capability ds);

	/* The PD's address space: attach into it, handle its faults. */
	Capability<Region_map> address_space();

	/*
	 * The map holding the stacks of a child in this PD (a PD session's
	 * only; the component's own PD has none: an invalid capability).
	 */
	Capability<Region_map> stack_area();

	enum class Ref_account_result { OK, INVALID_SESSION };

	/* The account quota moves to and from; set once, later calls change nothing. */
	Ref_account_result ref_account(Capability<Pd_account> ref);

	Cap_quota cap_quota() const;
	Cap_quota used_caps() const;
	Cap_quota avail_caps() const { return { cap_quota().value - used_caps().value }; }

	Ram_quota ram_quota() const;
	Ram_quota used_ram()  const;
	Ram_quota avail_ram() const { return { ram_quota().value - used_ram().value }; }
};

struct Genode::Pd_ram_allocator : Ram_allocator
{
	Pd_session &_pd;

	Result try_alloc(size_t size, Cache cache) override
	{
		return _pd.alloc_ram(size, cache).convert<Alloc_result>(
			[&] (Ram::Capability ds) -> Result { return { *this, { ds, size } }; },
			[&] (Alloc_error e) -> Result { return e; });
	}

	void _free(Ram::Allocation &allocation) override { _pd.free_ram(allocation.cap); }

	void seal(Ram::Capability cap) override { _pd.seal_ram(cap); }

	Pd_ram_allocator(Pd_session &pd) : _pd(pd) { }
};

#endif /* _RTCR_SDK__PD_SESSION__PD_SESSION_H_ */
