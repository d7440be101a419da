/*
 * The server of the kv scenario: a key-value store that clients reach
 * through shared RAM and signals, and the pager of a managed dataspace.
 *
 * It announces three services: "requests" (a RAM dataspace holding one
 * Kv_slot per client), "doorbell" (a signal context clients submit after
 * filling their slot) and "table" (the managed dataspace of a region map of
 * its own, empty at first).  A client that attaches the table and reads it
 * faults in the server's region map; the server's fault handler fills a
 * fresh page for the faulting address and attaches it, and the client's
 * read continues.  It answers through each client's "reply-SLOT" context,
 * requested when that client first asks, and exits once every client said
 * goodbye.
 */
#include <base/component.h>
#include <base/log.h>
#include <rtcr.h>

#include "kv_protocol.h"

using namespace Genode;

static long request_service(char const *name)
{
	long cap;
	while ((cap = rtcr_request(name)) == -RTCR_EAGAIN)
		rtcr_sleep_us(100);
	return cap;
}

struct Server
{
	long const requests = rtcr_ram_alloc(KV_PAGE);
	Kv_slot volatile *slots = (Kv_slot volatile *)rtcr_attach(RTCR_ADDRESS_SPACE, requests, 0, 0,
	                                                          RTCR_ANYWHERE, RTCR_W);
	long const doorbell   = rtcr_signal_context();
	long const table      = rtcr_rm_create(KV_TABLE_PAGES * KV_PAGE);
	long const table_sigh = rtcr_signal_context();
	long replies[KV_SLOTS];
	unsigned long handled[KV_SLOTS] { };
	unsigned long store[KV_KEYS] { };
	unsigned goodbyes = 0, pages = 0, served = 0;

	Server()
	{
		for (long &reply : replies) reply = -1;
		rtcr_fault_handler(table, table_sigh);
		rtcr_announce("requests", requests);
		rtcr_announce("doorbell", doorbell);
		rtcr_announce("table", rtcr_rm_dataspace(table));
		log("server: announced requests, doorbell and table");
	}

	/* a client read a table page nothing is attached at yet */
	void page()
	{
		struct rtcr_fault f;
		rtcr_fault(table, &f);
		if (f.type == RTCR_FAULT_NONE)
			return;
		unsigned long const index = f.addr / KV_PAGE;
		long const ds = rtcr_ram_alloc(KV_PAGE);
		unsigned long *words = (unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0,
		                                                    RTCR_ANYWHERE, RTCR_W);
		for (unsigned i = 0; i < KV_PAGE / sizeof(unsigned long); i++)
			words[i] = index * 1000 + i;
		rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)words);
		rtcr_attach(table, ds, 0, 0, (long)(index * KV_PAGE), 0);  /* read-only there */
		pages++;
		log("server: paged table page ", index, " (", f.type == RTCR_FAULT_READ ? "READ" : "other",
		    " fault at ", Hex(f.addr), ")");
	}

	unsigned long answer(Kv_slot volatile &slot)
	{
		unsigned long const key = slot.key % KV_KEYS;
		switch (slot.op) {
		case KV_PUT: store[key] = slot.value; return slot.value;
		case KV_GET: return store[key];
		case KV_ADD: store[key] += slot.value; return store[key];
		case KV_BYE: goodbyes++; return served;
		default:     return ~0UL;
		}
	}

	void serve_requests()
	{
		for (unsigned s = 0; s < KV_SLOTS; s++) {
			Kv_slot volatile &slot = slots[s];
			if (slot.seq == handled[s])
				continue;
			handled[s] = slot.seq;
			served++;
			slot.result = answer(slot);
			slot.answered = slot.seq;
			if (replies[s] < 0) {
				char name[] = "reply-0";
				name[6] = (char)('0' + s);
				replies[s] = request_service(name);
			}
			rtcr_signal_submit(replies[s]);
		}
	}

	void run()
	{
		while (goodbyes < KV_SLOTS) {
			long const fired = rtcr_signal_wait();
			if (fired == table_sigh)
				page();
			else if (fired == doorbell)
				serve_requests();
		}
		unsigned long sum = 0;
		for (unsigned long value : store)
			sum += value;
		log("server: ", served, " requests served, ", pages, " table pages paged, store sums to ",
		    sum);
	}
};

void Component::construct(Env &env)
{
	static Server server;
	server.run();
	env.parent().exit(0);
}
