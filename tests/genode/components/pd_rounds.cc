/*
 * Rounds of RAM on PD sessions, for checkpoints taken anywhere in between:
 * two PDs with quota transferred to them, dataspaces allocated on either,
 * written through attachments, handed back and forth in quota, freed by
 * their owner (and, refused, by the other PD), delegated to the other PD,
 * and signal contexts delegated and dissolved.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_dataspace.h>
#include <pd_session/connection.h>
#include <region_map/client.h>
#include <rtcr.h>

using namespace Genode;

enum { ROUNDS = 24, KEPT = 3 };

struct Nothing { void handle() { } };

void Component::construct(Env &env)
{
	static Nothing nothing;
	static Pd_connection pd_a { env, "a" };
	static Pd_connection pd_b { env, "b" };
	Pd_connection *pds[2] = { &pd_a, &pd_b };
	for (Pd_connection *pd : pds) {
		pd->ref_account(env.pd_session_cap());
		if (env.pd().transfer_quota(pd->cap(), Ram_quota { 256 * 1024 }) != Pd_account::Transfer_result::OK)
			error("transfer failed");
		if (env.pd().transfer_quota(pd->cap(), Cap_quota { 8 }) != Pd_account::Transfer_result::OK)
			error("cap transfer failed");
	}

	/* pd_a's address space holds every kept dataspace too, as a child's would */
	Region_map_client space_a { pd_a.address_space() };
	Ram_dataspace_capability kept[KEPT] { };
	unsigned owner[KEPT] { };
	unsigned long sum = 0;
	for (unsigned round = 0; round < ROUNDS; round++) {
		unsigned const slot = round % KEPT;
		if (kept[slot].valid()) {
			pds[1 - owner[slot]]->free_ram(kept[slot]);   /* refused: not its owner */
			Attached_dataspace old { env.rm(), kept[slot] };
			for (unsigned i = 0; i < old.size() / sizeof(unsigned); i++)
				sum = sum * 31 + old.local_addr<unsigned>()[i];
			space_a.detach(0x100000 + slot * 0x10000);
			pds[owner[slot]]->free_ram(kept[slot]);
		}
		owner[slot] = round % 2;
		size_t const size = 4096 * (1 + round % 5);
		pds[owner[slot]]->alloc_ram(size).with_result(
			[&] (Ram_dataspace_capability ds) { kept[slot] = ds; },
			[&] (Alloc_error e) { error("round ", round, ": ", e); });
		{
			Attached_dataspace ram { env.rm(), kept[slot] };
			unsigned *words = ram.local_addr<unsigned>();
			for (unsigned i = 0; i < ram.size() / sizeof(unsigned); i++)
				words[i] = round * 1000003u + i * 7919u + unsigned(sum);
		}
		if (space_a.attach(kept[slot], { .size = { }, .offset = { }, .use_at = true,
		                                 .at = 0x100000 + slot * 0x10000, .executable = { },
		                                 .writeable = true }).failed())
			error("attach into pd_a's address space failed");
		/* the other PD holds it too, until the owner frees it */
		if (rtcr_cap_delegate(pds[1 - owner[slot]]->cap().selector(), kept[slot].selector()) < 0)
			error("delegation failed");
		if (round % 5 == 2) {
			Signal_handler<Nothing> handler { env.ep(), nothing, &Nothing::handle };
			if (rtcr_cap_delegate(pd_a.cap().selector(), Signal_context_capability(handler).selector()) < 0)
				error("context delegation failed");
		}
		if (round % 4 == 3) {
			Pd_connection &from = *pds[round % 8 == 3 ? 0 : 1];
			if (from.transfer_quota(env.pd_session_cap(), Ram_quota { 4096 }) != Pd_account::Transfer_result::OK)
				error("giving back failed");
		}
		size_t const a = pd_a.used_ram().value, b = pd_b.used_ram().value;
		size_t const qa = pd_a.ram_quota().value, qb = pd_b.ram_quota().value;
		size_t const ca = pd_a.used_caps().value, cb = pd_b.used_caps().value;
		log("round ", round, " sum ", Hex(sum), " a ", a, "/", qa, " b ", b, "/", qb,
		    " caps ", ca, " ", cb, " env ", env.pd().avail_ram().value);
	}
	env.parent().exit(0);
}
