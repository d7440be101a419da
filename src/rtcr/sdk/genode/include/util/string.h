/*
 * Strings and byte ranges of the Genode API (rtcr's implementation).
 */
#ifndef _RTCR_SDK__UTIL__STRING_H_
#define _RTCR_SDK__UTIL__STRING_H_

#include <base/stdint.h>
#include <base/output.h>
#include <util/attempt.h>
#include <util/noncopyable.h>

namespace Genode {
	struct Num_bytes;
	struct Byte_range_ptr;
	class Span;
	class Cstring;
	template <size_t> class String;
	using Const_byte_range_ptr = Span;
	using Number_of_bytes = Num_bytes;

	int   memcmp(void const *, void const *, size_t);
	void *memcpy(void *, const void *, size_t);
	void *memmove(void *, const void *, size_t);
	void *memset(void *, int, size_t);

	static inline void bzero(void *dst, size_t n) { memset(dst, 0, n); }

	template <typename T> static inline T min(T a, T b) { return a < b ? a : b; }
	template <typename T> static inline T max(T a, T b) { return a > b ? a : b; }

	static inline bool is_whitespace(char c)
	{
		return c == ' ' || c == '\t' || c == '\n' || c == '\r';
	}

	static inline bool is_digit(char c, bool hex = false)
	{
		return (c >= '0' && c <= '9')
		    || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
	}

	static inline bool is_letter(char c)
	{
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	}

	static inline size_t strlen(char const *s)
	{
		size_t n = 0;
		for (; s && s[n]; n++) ;
		return n;
	}

	/* Compare at most len characters (as unsigned); 0 when equal. */
	static inline int strcmp(char const *a, char const *b, size_t len = ~0UL)
	{
		for (; len && *a && *a == *b; a++, b++, len--) ;
		if (!len) return 0;
		return (int)(unsigned char)*a - (int)(unsigned char)*b;
	}

	/* Copy a NUL-terminated string into dst of `size` bytes, always terminating it. */
	static inline char *copy_cstring(char *dst, char const *src, size_t size)
	{
		if (!dst || !size) return dst;
		size_t i = 0;
		for (; src && src[i] && i + 1 < size; i++) dst[i] = src[i];
		dst[i] = 0;
		return dst;
	}

	/* Parse a number (decimal, or hex after "0x"); the characters used, 0 if none. */
	size_t ascii_to_unsigned(char const *s, size_t n, unsigned long long &result);
	size_t ascii_to(char const *s, bool &result);
	size_t ascii_to(char const *s, unsigned long long &result);
	size_t ascii_to(char const *s, unsigned long &result);
	size_t ascii_to(char const *s, unsigned int &result);
	size_t ascii_to(char const *s, long long &result);
	size_t ascii_to(char const *s, long &result);
	size_t ascii_to(char const *s, int &result);
	size_t ascii_to(char const *s, double &result);
	size_t ascii_to(char const *s, float &result);
	size_t ascii_to(char const *s, Num_bytes &result);
}

/* A writable byte range, for example a dataspace's local mapping. */
struct Genode::Byte_range_ptr : Noncopyable
{
	struct {
		char * const start;
		size_t const num_bytes;
	};

	Byte_range_ptr(char *start, size_t num_bytes) : start(start), num_bytes(num_bytes) { }

	void with_skipped_bytes(size_t n, auto const &fn)
	{
		if (n < num_bytes) {
			Byte_range_ptr const rest { start + n, num_bytes - n };
			fn(rest);
		}
	}

	/*
	 * Let fn print into the range. The number of bytes written, or
	 * EXCEEDED when the text did not fit (the range then holds what fit).
	 */
	Attempt<size_t, Buffer_error> as_output(auto const &fn) const
	{
		/*
		 * A piece that does not fit is not written, nor is anything after
		 * it: the range holds the whole pieces printed before the first
		 * one that did not fit, as on Genode.
		 */
		struct Range_output : Output
		{
			char *const at;
			size_t const capacity;
			size_t used = 0;
			bool overflow = false;

			Range_output(char *at, size_t capacity) : at(at), capacity(capacity) { }

			bool room_for(size_t n)
			{
				overflow = overflow || n > capacity - used;
				return !overflow;
			}

			void out_char(char c) override { if (room_for(1)) at[used++] = c; }

			void out_string(char const *str, size_t n) override
			{
				size_t len = 0;
				while (str && len < n && str[len]) len++;
				if (room_for(len)) {
					memcpy(at + used, str, len);
					used += len;
				}
			}
		} output { start, num_bytes };
		fn(static_cast<Output &>(output));
		if (output.overflow)
			return Buffer_error::EXCEEDED;
		return output.used;
	}
};

/* A read-only byte range. */
class Genode::Span : Noncopyable
{
	public:

		struct {
			char const * const start;
			size_t       const num_bytes;
		};

		Span(char const *start, size_t num_bytes) : start(start), num_bytes(num_bytes) { }

		bool contains(char const *p) const { return p >= start && size_t(p - start) < num_bytes; }
		bool contains(void const *p) const { return contains((char const *)p); }

		bool equals(Span const &o) const
		{
			return num_bytes == o.num_bytes && !memcmp(start, o.start, num_bytes);
		}

		bool starts_with(Span const &p) const
		{
			return num_bytes >= p.num_bytes && !memcmp(start, p.start, p.num_bytes);
		}

		bool ends_with(Span const &s) const
		{
			return num_bytes >= s.num_bytes
			    && !memcmp(start + num_bytes - s.num_bytes, s.start, s.num_bytes);
		}

		/* fn(head, tail) around the first `match`, or fn(all, empty). */
		void cut(char match, auto const &fn) const
		{
			for (size_t i = 0; i < num_bytes; i++)
				if (start[i] == match) {
					fn(Span(start, i), Span(start + i + 1, num_bytes - i - 1));
					return;
				}
			fn(Span(start, num_bytes), Span(nullptr, 0));
		}

		/* fn(piece) for every piece between separators (an empty last one after a trailing one). */
		void split(char sep, auto const &fn) const
		{
			size_t from = 0;
			for (size_t i = 0; i < num_bytes; i++)
				if (start[i] == sep) {
					fn(Span(start + from, i - from));
					from = i + 1;
				}
			if (from < num_bytes)
				fn(Span(start + from, num_bytes - from));
			else if (num_bytes && start[num_bytes - 1] == sep)
				fn(Span(nullptr, 0));
		}

		auto trimmed(auto const &fn) const -> decltype(fn(*this))
		{
			char const *s = start;
			size_t n = num_bytes;
			for (; n && *s == ' '; s++, n--) ;
			for (; n && s[n - 1] == ' '; n--) ;
			return fn(Span(s, n));
		}

		void print(Output &out) const { out.out_string(start, num_bytes); }
};

/* A C string to print, at most `len` characters of it. */
class Genode::Cstring
{
	private:

		char const * const _str;
		size_t       const _len;

		static size_t _init_len(char const *s, size_t max)
		{
			size_t n = 0;
			for (; s && n < max && s[n]; n++) ;
			return n;
		}

	public:

		Cstring(char const *str)             : _str(str), _len(strlen(str)) { }
		Cstring(char const *str, size_t max) : _str(str), _len(_init_len(str, max)) { }

		size_t length() const { return _len; }

		void print(Output &out) const { out.out_string(_str, _len); }
};

/* A number of bytes, printed and parsed with K/M/G suffixes. */
struct Genode::Num_bytes
{
	size_t _n = 0;

	Num_bytes() { }
	Num_bytes(size_t n) : _n(n) { }
	operator size_t() const { return _n; }

	void print(Output &) const;
};

/* A string of up to CAPACITY-1 characters, built by printing its arguments. */
template <Genode::size_t CAPACITY>
class Genode::String
{
	private:

		char   _buf[CAPACITY];
		size_t _len = 0;   /* including the terminating NUL, 0 for an empty string */

		struct Local_output : Output
		{
			char *buf; size_t cap; size_t n = 0;
			Local_output(char *buf, size_t cap) : buf(buf), cap(cap) { }
			void out_char(char c) override { if (n + 1 < cap) buf[n++] = c; }
		};

	public:

		constexpr static size_t size() { return CAPACITY; }

		String() { _buf[0] = 0; }

		String(char const *cstr)
		{
			copy_cstring(_buf, cstr, CAPACITY);
			_len = strlen(_buf) + 1;
		}

		template <size_t N>
		String(String<N> const &other) : String(other.string()) { }

		template <typename T, typename... TAIL>
		explicit String(T const &head, TAIL &&... tail)
		{
			Local_output out(_buf, CAPACITY);
			Genode::print(out, head, tail...);
			_buf[out.n] = 0;
			_len = out.n + 1;
		}

		size_t length() const { return _len; }
		char const *string() const { return _len ? _buf : ""; }
		bool valid() const { return _len > 1; }

		template <size_t N>
		bool operator == (String<N> const &o) const { return !Genode::strcmp(string(), o.string()); }
		bool operator == (char const *o) const { return !Genode::strcmp(string(), o); }
		template <size_t N>
		bool operator != (String<N> const &o) const { return !(*this == o); }
		bool operator != (char const *o) const { return !(*this == o); }

		void with_span(auto const &fn) const { fn(Span(string(), _len ? _len - 1 : 0)); }

		void print(Output &out) const { out.out_string(string()); }
};

#endif /* _RTCR_SDK__UTIL__STRING_H_ */
