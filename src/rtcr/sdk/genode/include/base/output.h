/*
 * Text output of the Genode API: an Output receives characters, print()
 * overloads turn values into text, and any type with a
 * `void print(Output &) const` member is printable.
 */
#ifndef _RTCR_SDK__BASE__OUTPUT_H_
#define _RTCR_SDK__BASE__OUTPUT_H_

#include <base/stdint.h>
#include <base/error.h>
#include <util/interface.h>

namespace Genode { struct Output; }

struct Genode::Output : Interface
{
	virtual void out_char(char) = 0;

	/* stops at max_len characters or at the NUL, whichever comes first */
	virtual void out_string(char const *str, size_t max_len = ~0UL);

	/* one print() per argument, left to right (the comma fold fixes the order) */
	static void out_args(Output &out, auto &&... args) { (print(out, args), ...); }
};

namespace Genode {

	void print(Output &, char const *);
	void print(Output &, char *) = delete;   /* a mutable buffer is no string */
	void print(Output &, void const *);      /* an address, in hex */

	static inline void print(Output &output, auto *ptr) { print(output, (void const *)ptr); }

	void print(Output &, unsigned long);
	void print(Output &, unsigned long long);
	/* narrower integers go through the widest type of their signedness */
	static inline void print(Output &out, unsigned char  n) { print(out, static_cast<unsigned long>(n)); }
	static inline void print(Output &out, unsigned short n) { print(out, static_cast<unsigned long>(n)); }
	static inline void print(Output &out, unsigned int   n) { print(out, static_cast<unsigned long>(n)); }

	void print(Output &, long);
	void print(Output &, long long);
	static inline void print(Output &out, char  n) { print(out, static_cast<long>(n)); }
	static inline void print(Output &out, short n) { print(out, static_cast<long>(n)); }
	static inline void print(Output &out, int   n) { print(out, static_cast<long>(n)); }

	/* as 0 or 1, the way Genode components expect to see it in their logs */
	static inline void print(Output &out, bool flag) { print(out, flag ? 1L : 0L); }

	void print(Output &, float);    /* 3 fraction digits */
	void print(Output &, double);   /* 6 fraction digits */

	/* A number in hexadecimal, with or without "0x", padded to its type's width or not. */
	class Hex
	{
		public:

			enum Prefix { PREFIX, OMIT_PREFIX };
			enum Pad    { PAD,    NO_PAD };

		private:

			/* widened here; _width remembers how many digits the original type has */
			unsigned long long const _number;
			size_t             const _width;
			Prefix             const _prefix_mode;
			Pad                const _pad_mode;

		public:

			explicit Hex(auto number, Prefix prefix = PREFIX, Pad pad = NO_PAD)
			:
				_number(static_cast<unsigned long long>(number)),
				_width(sizeof(number) * 2),
				_prefix_mode(prefix), _pad_mode(pad)
			{ }

			void print(Output &out) const;
	};

	/* An address range as "[first,end)", both padded hex without prefix. */
	template <typename T>
	struct Hex_range
	{
		T const base;
		size_t const len;

		Hex_range(T first, size_t length) : base(first), len(length) { }

		void print(Output &) const;
	};

	/* a char as a character: plain print(char) shows its number */
	struct Char
	{
		char const c;
		explicit Char(char ch) : c(ch) { }
		void print(Output &out) const { out.out_char(c); }
	};

	void print(Output &, Alloc_error);

	struct Ok;
	static inline void print(Output &out, Ok const &) { out.out_string("ok"); }

	/* everything else prints itself */
	static inline void print(Output &out, auto const &printable) { printable.print(out); }

	static inline void print(Output &out, auto const &first, auto &&... rest)
	{
		Output::out_args(out, first, rest...);
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
	auto const digits = [] (T v) { return Hex(v, Hex::OMIT_PREFIX, Hex::PAD); };

	T const past = (T)(base + len);

	/*
	 * A range that ends exactly at the top of T wraps to 0; naming its last
	 * byte with a closed bracket keeps it readable.  Such a range is
	 * neither empty nor overflowing, so nothing more is said.
	 */
	bool const reaches_top = base != 0 && past == 0;
	Genode::print(out, "[", digits(base), ",",
	              digits(reaches_top ? (T)(past - 1) : past), reaches_top ? "]" : ")");
	if (reaches_top)
		return;

	if (base != 0 && past < base) Genode::print(out, " (overflow!)");
	if (len == 0)                 Genode::print(out, " (empty!)");
}

#endif /* _RTCR_SDK__BASE__OUTPUT_H_ */
