/*
 * Text output of the Genode API: an Output receives characters, print()
 * overloads turn values into text, and any type with a
 * `void print(Output &) const` member is printable.
 */
#ifndef _INCLUDE__BASE__OUTPUT_H_
#define _INCLUDE__BASE__OUTPUT_H_

#include <base/stdint.h>
#include <base/error.h>
#include <util/interface.h>

namespace Genode { struct Output; }

struct Genode::Output : Interface
{
	virtual void out_char(char) = 0;

	/* At most n characters of str, up to its terminating NUL. */
	virtual void out_string(char const *str, size_t n = ~0UL);

	static void out_args(Output &output, auto &&head, auto &&... tail)
	{
		print(output, head);
		out_args(output, tail...);
	}

	static void out_args(Output &output, auto &&last) { print(output, last); }
};

namespace Genode {

	void print(Output &, char const *);
	void print(Output &, char *) = delete;   /* a mutable buffer is no string */
	void print(Output &, void const *);      /* an address, in hex */

	static inline void print(Output &output, auto *ptr) { print(output, (void const *)ptr); }

	void print(Output &, unsigned long);
	void print(Output &, unsigned long long);
	static inline void print(Output &o, unsigned char  v) { print(o, (unsigned long)v); }
	static inline void print(Output &o, unsigned short v) { print(o, (unsigned long)v); }
	static inline void print(Output &o, unsigned int   v) { print(o, (unsigned long)v); }

	void print(Output &, long);
	void print(Output &, long long);
	static inline void print(Output &o, char  v) { print(o, (long)v); }
	static inline void print(Output &o, short v) { print(o, (long)v); }
	static inline void print(Output &o, int   v) { print(o, (long)v); }

	static inline void print(Output &output, bool value) { print(output, (int)value); }

	void print(Output &, float);    /* 3 fraction digits */
	void print(Output &, double);   /* 6 fraction digits */

	/* A number in hexadecimal, with or without "0x", padded to its type's width or not. */
	class Hex
	{
		public:

			enum Prefix { PREFIX, OMIT_PREFIX };
			enum Pad    { PAD,    NO_PAD };

		private:

			unsigned long long const _value;
			size_t             const _digits;
			Prefix             const _prefix;
			Pad                const _pad;

		public:

			explicit Hex(auto value, Prefix prefix = PREFIX, Pad pad = NO_PAD)
			: _value(value), _digits(2*sizeof(value)), _prefix(prefix), _pad(pad) { }

			void print(Output &output) const;
	};

	/* An address range as "[first,end)", both padded hex without prefix. */
	template <typename T>
	struct Hex_range
	{
		T const base;
		size_t const len;

		Hex_range(T base, size_t len) : base(base), len(len) { }

		void print(Output &out) const;
	};

	struct Char
	{
		char const c;
		explicit Char(char c) : c(c) { }
		void print(Output &output) const { output.out_char(c); }
	};

	void print(Output &, Alloc_error);

	struct Ok;
	static inline void print(Output &out, Ok const &) { print(out, "ok"); }

	static inline void print(Output &output, auto const &obj) { obj.print(output); }

	static inline void print(Output &output, auto const &head, auto &&... tail)
	{
		Output::out_args(output, head, tail...);
	}

	static inline size_t num_printed_bytes(auto &&... args)
	{
		struct Counter : Output
		{
			size_t n = 0;
			void out_char(char) override { n++; }
			void out_string(char const *s, size_t max) override
			{
				for (; s && *s && max; s++, max--) n++;
			}
		} counter { };
		print(counter, args...);
		return counter.n;
	}
}

template <typename T>
void Genode::Hex_range<T>::print(Output &out) const
{
	T const end = (T)(base + len);
	Genode::print(out, "[", Hex(base, Hex::OMIT_PREFIX, Hex::PAD), ",");
	if (base && end == 0) {
		/* a range up to the top of the address space: name its last byte */
		Genode::print(out, Hex((T)(end - 1), Hex::OMIT_PREFIX, Hex::PAD), "]");
		return;
	}
	Genode::print(out, Hex(end, Hex::OMIT_PREFIX, Hex::PAD), ")");
	if (base && end < base) Genode::print(out, " (overflow!)");
	if (len == 0)           Genode::print(out, " (empty!)");
}

#endif /* _INCLUDE__BASE__OUTPUT_H_ */
