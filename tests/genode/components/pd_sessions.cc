/*
 * pd_session/*: PD sessions, reference accounts, quota transfers and RAM
 * owned by another PD.  One LOG line per behaviour.
 */
#include <base/component.h>
#include <base/log.h>
#include <pd_session/connection.h>
#include <pd_session/pd_session.h>
#include <dataspace/client.h>

using namespace Genode;

static char const *result(Pd_account::Transfer_result r)
{
	switch (r) {
	case Pd_account::Transfer_result::OK:       return "OK";
	case Pd_account::Transfer_result::EXCEEDED: return "EXCEEDED";
	case Pd_account::Transfer_result::INVALID:  return "INVALID";
	}
	return "?";
}

/* Write `value` through a fresh attachment of `ds`; INVALID_DATASPACE etc. as text. */
static void poke(Env &env, char const *what, Dataspace_capability ds, int value)
{
	env.rm().attach(ds, { .size = { }, .offset = { }, .use_at = { }, .at = { },
	                      .executable = { }, .writeable = true }).with_result(
		[&] (Env::Local_rm::Attachment &a) {
			int *p = (int *)a.ptr;
			int const before = *p;
			*p = value;
			log(what, ": attached, read ", before, " wrote ", *p);
		},
		[&] (Env::Local_rm::Error e) {
			log(what, ": ", e == Env::Local_rm::Error::INVALID_DATASPACE
			                ? "INVALID_DATASPACE" : "other error"); });
}

void Component::construct(Env &env)
{
	log("session quota: ", Pd_session::RAM_QUOTA, " ", Pd_session::CAP_QUOTA);

	size_t const ram_before  = env.pd().avail_ram().value;
	size_t const caps_before = env.pd().avail_caps().value;
	static Pd_connection pd_1 { env, "one" };
	log("opening pays the session quota: ram ", ram_before - env.pd().avail_ram().value,
	    " caps ", caps_before - env.pd().avail_caps().value);
	log("a new PD holds its session quota: ram ", pd_1.ram_quota().value,
	    " used ", pd_1.used_ram().value, " caps ", pd_1.cap_quota().value);

	log("transfer before ref_account: ",
	    result(env.pd().transfer_quota(pd_1.cap(), Ram_quota { 4096 })));

	/* (results go to locals first: the order in which arguments are evaluated is open) */
	pd_1.ref_account(env.pd_session_cap());
	size_t const env_ram = env.pd().avail_ram().value;
	char const *ram_result = result(env.pd().transfer_quota(pd_1.cap(), Ram_quota { 64 * 1024 }));
	log("transfer to the referencing PD: ", ram_result,
	    " pd gained ", pd_1.ram_quota().value - Pd_session::RAM_QUOTA,
	    " env lost ", env_ram - env.pd().avail_ram().value);
	char const *cap_result = result(env.pd().transfer_quota(pd_1.cap(), Cap_quota { 5 }));
	log("transfer of caps: ", cap_result, " pd caps ", pd_1.cap_quota().value);
	log("transfer beyond what is left: ",
	    result(env.pd().transfer_quota(pd_1.cap(), Ram_quota { 1UL << 40 })));
	char const *too_much = result(pd_1.transfer_quota(env.pd_session_cap(),
	                                                  Ram_quota { 64 * 1024 + 4096 }));
	char const *back = result(pd_1.transfer_quota(env.pd_session_cap(), Ram_quota { 32 * 1024 }));
	log("session quota is not transferable: ", too_much, " back what it got: ", back,
	    " pd keeps ", pd_1.ram_quota().value - Pd_session::RAM_QUOTA);

	static Pd_connection pd_2 { env, "two" };
	pd_2.ref_account(env.pd_session_cap());
	bool const once = pd_1.ref_account(pd_2.cap()) == Pd_session::Ref_account_result::OK;
	log("ref_account is set once: ", once, " siblings may not transfer: ",
	    result(pd_1.transfer_quota(pd_2.cap(), Ram_quota { 4096 })));

	static Pd_connection pd_3 { env, "three" };
	static Pd_connection pd_4 { env, "four" };
	log("ref_account to a PD without account: ",
	    pd_3.ref_account(pd_4.cap()) == Pd_session::Ref_account_result::OK
	    ? "OK" : "INVALID_SESSION");

	/* RAM on another PD */
	size_t const env_used = env.pd().used_ram().value;
	size_t const pd_used  = pd_1.used_ram().value;
	Ram_dataspace_capability ds;
	pd_1.alloc_ram(5000).with_result(
		[&] (Ram_dataspace_capability cap) { ds = cap; },
		[&] (Alloc_error e) { error("alloc on pd_1 failed: ", e); });
	log("allocation is charged to its PD: pd ", pd_1.used_ram().value - pd_used,
	    " env ", env.pd().used_ram().value - env_used);
	log("ram_size by owner and by another PD: ", pd_1.ram_size(ds), " ", pd_2.ram_size(ds));
	poke(env, "the creator may attach it", ds, 42);

	pd_2.free_ram(ds);
	log("a foreign free changes nothing: used ", pd_1.used_ram().value - pd_used,
	    " size ", Dataspace_client(ds).size());
	poke(env, "still there after the foreign free", ds, 43);
	pd_2.seal_ram(ds);
	poke(env, "a foreign seal changes nothing", ds, 44);

	pd_1.alloc_ram(1UL << 30).with_result(
		[&] (Ram_dataspace_capability) { error("a gigabyte was granted"); },
		[&] (Alloc_error e) { log("more than the PD's quota: ", e); });

	pd_1.free_ram(ds);
	log("the owner's free refunds it: used ", pd_1.used_ram().value - pd_used);
	poke(env, "after the owner's free", ds, 45);

	{
		Pd_ram_allocator ram { pd_1 };
		Ram_dataspace_capability cap = ram.alloc(3 * 4096);
		log("Pd_ram_allocator allocates on its PD: ", pd_1.used_ram().value - pd_used);
		ram.free(cap);
		log("Pd_ram_allocator frees on its PD: ", pd_1.used_ram().value - pd_used);
	}

	bool threw = false;
	try {
		for (unsigned i = 0; i < 1000; i++)
			new Pd_connection(env);
	} catch (Out_of_ram) { threw = true; }
	log("opening PDs until the quota is spent throws Out_of_ram: ", threw);

	env.parent().exit(0);
}
