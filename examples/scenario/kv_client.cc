/*
 * A client of the kv scenario.  Its config says which slot of the server's
 * "requests" dataspace is its own (`slot`), how many rounds of requests it
 * makes (`rounds`) and whether it also reads the server's paged "table".
 * It announces its reply signal context as "reply-SLOT", requests the
 * server's services, and for each request fills its slot, rings the
 * doorbell and waits for its reply.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_rom_dataspace.h>
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

struct Client
{
	unsigned const slot;
	long const reply = rtcr_signal_context();
	long doorbell = -1;
	Kv_slot volatile *mine = nullptr;

	Client(unsigned slot) : slot(slot)
	{
		char name[] = "reply-0";
		name[6] = (char)('0' + slot);
		rtcr_announce(name, reply);
		long const requests = request_service("requests");
		doorbell = request_service("doorbell");
		Kv_slot volatile *slots = (Kv_slot volatile *)rtcr_attach(
			RTCR_ADDRESS_SPACE, requests, 0, 0, RTCR_ANYWHERE, RTCR_W);
		mine = &slots[slot];
	}

	unsigned long ask(Kv_op op, unsigned long key, unsigned long value)
	{
		mine->op = op;
		mine->key = key;
		mine->value = value;
		unsigned long const seq = mine->seq + 1;
		mine->seq = seq;
		rtcr_signal_submit(doorbell);
		while (mine->answered != seq)
			rtcr_signal_wait();
		return mine->result;
	}

	unsigned long read_table()
	{
		long const table = request_service("table");
		unsigned long const *words = (unsigned long const *)rtcr_attach(
			RTCR_ADDRESS_SPACE, table, 0, 0, RTCR_ANYWHERE, 0);
		unsigned long sum = 0;
		for (unsigned page = 0; page < KV_TABLE_PAGES; page++)
			for (unsigned i = 0; i < KV_PAGE / sizeof(unsigned long); i += 64)
				sum += words[page * KV_PAGE / sizeof(unsigned long) + i];
		return sum;
	}
};

void Component::construct(Env &env)
{
	Attached_rom_dataspace config { env, "config" };
	unsigned const slot   = config.node().attribute_value("slot", 0u);
	unsigned const rounds = config.node().attribute_value("rounds", 3u);
	bool const table      = config.node().attribute_value("table", false);

	static Client client(slot);
	for (unsigned r = 0; r < rounds; r++) {
		unsigned long const key = slot * 10 + r;
		client.ask(KV_PUT, key, (r + 1) * (slot + 3));
		unsigned long const sum = client.ask(KV_ADD, key, 100 * (slot + 1));
		log("client ", slot, ": round ", r, ": key ", key, " holds ",
		    client.ask(KV_GET, key, 0), " (added: ", sum, ")");
	}
	if (table)
		log("client ", slot, ": table sums to ", client.read_table());
	log("client ", slot, ": goodbye after ", client.ask(KV_BYE, 0, 0), " requests served");
	env.parent().exit(0);
}
