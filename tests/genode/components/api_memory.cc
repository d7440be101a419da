/*
 * base/attached_*, base/ram_allocator.h, region_map/*, rm_session/*,
 * dataspace/*, pd_session/*: RAM, attachments and nested region maps.
 */
#include <base/component.h>
#include <base/env.h>
#include <base/capability.h>
#include <base/ram_allocator.h>
#include <base/log.h>
#include <base/attached_ram_dataspace.h>
#include <base/attached_dataspace.h>
#include <rm_session/connection.h>
#include <region_map/region_map.h>
#include <region_map/client.h>
#include <dataspace/client.h>
#include <dataspace/dataspace.h>

using namespace Genode;

void Component::construct(Env &env)
{
	size_t const avail_before = env.pd().avail_ram().value;
	{
		Attached_ram_dataspace ram { env.ram(), env.rm(), 5000 };
		ram.local_addr<char>()[4999] = 'z';
		log("attached ram: size ", ram.size(), " ds ", Dataspace_client(ram.cap()).size(),
		    " last ", Char(ram.local_addr<char>()[4999]));
	}
	log("ram refunded: ", env.pd().avail_ram().value == avail_before);

	Ram_dataspace_capability ds = env.ram().alloc(2 * 4096);
	addr_t first = 0;
	env.rm().attach(ds, { .size = { }, .offset = { }, .use_at = { }, .at = { },
	                      .executable = { }, .writeable = true }).with_result(
		[&] (Env::Local_rm::Attachment &a) {
			first = addr_t(a.ptr);
			*(int *)a.ptr = 1234;
			log("attachment: ", a.num_bytes, " bytes");
		},
		[&] (Env::Local_rm::Error) { error("attach failed"); });
	/* the attachment detached itself: the same address is free again */
	env.rm().attach(ds, { .size = 4096, .offset = 4096, .use_at = true, .at = first,
	                      .executable = { }, .writeable = true }).with_result(
		[&] (Env::Local_rm::Attachment &a) {
			log("reattached at the same address: ", a.ptr == (void *)first,
			    " second page: ", *(int *)a.ptr);
		},
		[&] (Env::Local_rm::Error) { error("reattach failed"); });

	/* the pre-24.08 form: a local address that converts to a pointer, kept attached */
	int *legacy = env.rm().attach(ds);
	log("legacy attach: ", *legacy);
	env.rm().detach(legacy);

	Rm_connection rm { env };
	Region_map_client sub { rm.create(16 * 4096) };
	sub.attach(ds, { .size = { }, .offset = { }, .use_at = true, .at = 4096,
	                 .executable = { }, .writeable = true }).with_result(
		[&] (Region_map::Range r) { log("sub attach: ", Hex(r.start), " ", r.num_bytes); },
		[&] (Region_map::Attach_error) { error("sub attach failed"); });
	sub.attach(ds, { .size = { }, .offset = { }, .use_at = true, .at = 15 * 4096,
	                 .executable = { }, .writeable = true }).with_result(
		[&] (Region_map::Range) { error("attach beyond the end worked"); },
		[&] (Region_map::Attach_error e) {
			log("beyond the end: ", e == Region_map::Attach_error::REGION_CONFLICT
			                        ? "REGION_CONFLICT" : "other"); });
	log("managed dataspace: ", Dataspace_client(sub.dataspace()).size());
	Attached_dataspace nested { env.rm(), sub.dataspace() };
	log("through the nested map: ", *(nested.local_addr<int>() + 1024));

	env.ram().try_alloc(1UL << 40).with_result(
		[&] (Ram::Allocation &) { error("a terabyte was granted"); },
		[&] (Alloc_error e) { log("too much: ", e); });

	bool threw = false;
	try { env.ram().alloc(1UL << 40); } catch (Out_of_ram) { threw = true; }
	log("alloc throws Out_of_ram: ", threw);

	env.pd().seal_ram(ds);
	Attached_dataspace ro { env.rm(), ds };
	log("sealed, still readable: ", *ro.local_addr<int>());

	env.parent().exit(0);
}
