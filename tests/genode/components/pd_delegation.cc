/*
 * Capability delegation to PD sessions: a dataspace or signal context
 * handed to another PD gets a selector of its own there, paid by that PD;
 * freeing or dissolving it at the owner revokes it from every holder.
 * One LOG line per behaviour.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_ram_dataspace.h>
#include <pd_session/connection.h>
#include <rm_session/connection.h>
#include <region_map/client.h>
#include <rtcr.h>

using namespace Genode;

struct Main
{
	Env &env;
	Pd_connection pd { env, "holder" };

	void on_signal() { }

	size_t held() const { return pd.used_caps().value; }

	Main(Env &env) : env(env)
	{
		pd.ref_account(env.pd_session_cap());
		(void)env.pd().transfer_quota(pd.cap(), Cap_quota { 8 });

		size_t const before = held();
		Ram_dataspace_capability ds = env.ram().alloc(4096);
		long const there = rtcr_cap_delegate(pd.cap().selector(), ds.selector());
		log("a delegated dataspace gets a selector there: ", there > 0, " charged to that PD: ",
		    held() - before);
		log("delegating it again gives the same selector: ",
		    rtcr_cap_delegate(pd.cap().selector(), ds.selector()) == there,
		    " and costs nothing: ", held() - before);
		env.ram().free(ds);
		log("the owner's free revokes it there: ", held() - before);

		{
			Signal_handler<Main> handler { env.ep(), *this, &Main::on_signal };
			long const ctx = rtcr_cap_delegate(pd.cap().selector(), Signal_context_capability(handler).selector());
			log("a delegated signal context gets a selector there: ", ctx > 0,
			    " charged: ", held() - before);
		}
		log("dissolving the handler revokes its context there: ", held() - before);

		Rm_connection rm { env };
		Capability<Region_map> map = rm.create(4 * 4096);
		log("a region map cannot be delegated: ",
		    rtcr_cap_delegate(pd.cap().selector(), map.selector()) == -RTCR_ECAP);
		long const managed = rtcr_cap_delegate(pd.cap().selector(),
		                                       Region_map_client(map).dataspace().selector());
		log("its managed dataspace can: ", managed > 0, " charged: ", held() - before);
		rm.destroy(map);
		log("destroying the map revokes its dataspace there: ", held() - before);

		long result = 0;
		unsigned given = 0;
		while (result >= 0 && given < 64) {
			Ram_dataspace_capability more = env.ram().alloc(4096);
			result = rtcr_cap_delegate(pd.cap().selector(), more.selector());
			if (result >= 0) given++;
		}
		log("delegation stops at the holder's cap quota: ", result == -RTCR_ENOCAPS,
		    " after ", given, " of ", pd.cap_quota().value, " caps");

		env.parent().exit(0);
	}
};

void Component::construct(Env &env) { static Main main(env); }
