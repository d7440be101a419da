/*
 * base/attached_rom_dataspace.h, base/node.h, rom_session: the config
 * ROM, in either syntax, and a missing ROM.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_rom_dataspace.h>
#include <base/node.h>
#include <rom_session/connection.h>

using namespace Genode;

void Component::construct(Env &env)
{
	Attached_rom_dataspace config { env, "config" };
	Node const node = config.node();

	log("type: ", node.type());
	log("number: ", node.attribute_value("number", 0u), " hex: ",
	    Hex(node.attribute_value("address", (addr_t)0)));
	log("flag: ", node.attribute_value("flag", false), " missing: ",
	    node.attribute_value("missing", 17), " unparsable: ",
	    node.attribute_value("word", 5));
	log("text: ", node.attribute_value("word", String<32>()));
	log("sub nodes: ", node.num_sub_nodes());
	node.for_each_sub_node("item", [&] (Node const &item) {
		log("item ", item.attribute_value("name", String<16>()), " = ",
		    item.attribute_value("value", 0u), " children ", item.num_sub_nodes());
	});
	node.with_sub_node("other", [&] (Node const &other) {
		log("other: ", other.attribute_value("size", Num_bytes()));
	}, [&] { log("no other"); });
	log("has disabled: ", node.has_sub_node("disabled"));
	log("quota: ", env.pd().ram_quota(), " ", env.pd().cap_quota());

	try {
		Attached_rom_dataspace missing { env, "no-such-rom" };
		log("missing ROM opened");
	} catch (Rom_connection::Rom_connection_failed) {
		log("missing ROM: Rom_connection_failed");
	}
	env.parent().exit(0);
}
