/*
 * util/string.h, util/attempt.h, util/reconstructible.h, base/output.h,
 * base/log.h: what Genode's text output prints, one line per behaviour.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/output.h>
#include <base/stdint.h>
#include <util/string.h>
#include <util/attempt.h>
#include <util/reconstructible.h>
#include <util/noncopyable.h>
#include <util/interface.h>

using namespace Genode;

struct Counted : Noncopyable
{
	static inline int alive = 0;
	int value;
	Counted(int v) : value(v) { alive++; }
	~Counted() { alive--; }
};

void Component::construct(Env &env)
{
	log("numbers: ", 42, " ", -7, " ", 3000000000UL, " ", true, " ", (unsigned char)200);
	log("hex: ", Hex(0x2a), " ", Hex(0x2a, Hex::OMIT_PREFIX, Hex::PAD), " ", Hex((int)-1));
	log("range: ", Hex_range<addr_t>(0x1000, 0x2000), " empty: ", Hex_range<addr_t>(0x1000, 0));
	log("range edges: ", Hex_range<uint8_t>(0xf0, 0x10), " ", Hex_range<uint8_t>(0xf0, 0x20));
	log("pointer: ", (void const *)0xbeef);
	log("cstring: ", Cstring("truncated text", 9), " char: ", Char('x'));
	log("string: ", String<16>("id ", 7, "/", Hex(255)));
	log("double: ", 2.5, " float: ", 0.125f);
	warning("a warning");
	error("an error");
	log("two\nlines");

	char buf[8];
	Byte_range_ptr range { buf, sizeof(buf) };
	auto fits = range.as_output([&] (Output &out) { print(out, "1234"); });
	auto overflows = range.as_output([&] (Output &out) { print(out, "123456789"); });
	log("as_output: ", fits.convert<size_t>([] (size_t n) { return n; },
	                                       [] (Buffer_error) { return 0UL; }),
	    " then ", overflows.ok() ? "fit" : "exceeded");
	char pieces[4] = { '-', '-', '-', '-' };
	Byte_range_ptr { pieces, sizeof(pieces) }.as_output([&] (Output &out) {
		print(out, "ab", Cstring("cdef", 4), "g"); });
	log("exceeded output keeps the pieces that fit: ", Cstring(pieces, sizeof(pieces)));

	char copy[6];
	copy_cstring(copy, "abcdefgh", sizeof(copy));
	log("copy_cstring: ", Cstring(copy), " strcmp: ", strcmp("abc", "abd") < 0, " ",
	    strcmp("abcx", "abcy", 3));

	using Result = Attempt<int, Alloc_error>;
	Result good { 5 }, bad { Alloc_error::OUT_OF_RAM };
	good.with_result([] (int v) { log("attempt ok: ", v); }, [] (Alloc_error) { });
	log("attempt error: ", bad.convert<int>([] (int v) { return v; },
	                                        [] (Alloc_error e) { return (int)e + 100; }),
	    " printed: ", bad);

	{
		Constructible<Counted> maybe { };
		log("constructible: ", maybe.constructed(), " alive ", Counted::alive);
		maybe.construct(3);
		log("constructed: ", maybe->value, " alive ", Counted::alive);
		Reconstructible<Counted> always { 4 };
		always.construct(5);
		log("reconstructed: ", always->value, " alive ", Counted::alive);
	}
	log("destructed: alive ", Counted::alive);

	Constructible<Counted> empty { };
	try {
		log("unconstructed access went through: ", empty->value);
	} catch (Access_unconstructed_obj) {
		log("unconstructed access throws Access_unconstructed_obj");
	}

	env.parent().exit(0);
}
