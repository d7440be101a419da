/*
 * print() of numbers, strings and addresses; the LOG; string helpers;
 * raise().  rtcr's own implementation of the Genode API's text output.
 */
#include <base/log.h>
#include <base/exception.h>
#include <base/quota_guard.h>
#include <util/string.h>
#include <rtcr/genode.h>

using namespace Genode;

namespace {

	void out_digits(Output &out, unsigned long long v, unsigned base, int min_digits)
	{
		char tmp[64];
		int n = 0;
		do {
			unsigned d = (unsigned)(v % base);
			tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
			v /= base;
		} while (v && n < 64);
		while (n < min_digits && n < 64) tmp[n++] = '0';
		while (n) out.out_char(tmp[--n]);
	}

	void out_signed(Output &out, long long v)
	{
		if (v < 0) {
			out.out_char('-');
			out_digits(out, 0ULL - (unsigned long long)v, 10, 1);
		} else {
			out_digits(out, (unsigned long long)v, 10, 1);
		}
	}

	/* Fixed notation with `digits` fraction digits, rounded half up. */
	void out_float(Output &out, double v, int digits)
	{
		if (v != v) { out.out_string("nan"); return; }
		if (v < 0) { out.out_char('-'); v = -v; }
		if (v - v != 0) { out.out_string("inf"); return; }
		unsigned long long scale = 1;
		for (int i = 0; i < digits; i++) scale *= 10;
		if (v >= 1e18) {   /* beyond what the integer part can carry: scientific */
			int e = 0;
			while (v >= 10) { v /= 10; e++; }
			out_float(out, v, digits);
			out.out_char('e');
			out_signed(out, e);
			return;
		}
		unsigned long long ip = (unsigned long long)v;
		unsigned long long fp = (unsigned long long)((v - (double)ip) * (double)scale + 0.5);
		if (fp >= scale) { ip++; fp -= scale; }
		out_digits(out, ip, 10, 1);
		if (digits) {
			out.out_char('.');
			out_digits(out, fp, 10, digits);
		}
	}

	void out_size(Output &out, unsigned long long n)
	{
		if (n >= (1ULL << 30) && !(n & ((1ULL << 30) - 1))) { out_digits(out, n >> 30, 10, 1); out.out_char('G'); }
		else if (n >= (1ULL << 20) && !(n & ((1ULL << 20) - 1))) { out_digits(out, n >> 20, 10, 1); out.out_char('M'); }
		else if (n >= (1ULL << 10) && !(n & ((1ULL << 10) - 1))) { out_digits(out, n >> 10, 10, 1); out.out_char('K'); }
		else out_digits(out, n, 10, 1);
	}
}

void Output::out_string(char const *str, size_t n)
{
	for (; str && *str && n; str++, n--) out_char(*str);
}

void Genode::print(Output &out, char const *s)
{
	if (!s) { out.out_string("<null-string>"); return; }
	out.out_string(s);
}

void Genode::print(Output &out, void const *p) { print(out, Hex((addr_t)p)); }
void Genode::print(Output &out, unsigned long v) { out_digits(out, v, 10, 1); }
void Genode::print(Output &out, unsigned long long v) { out_digits(out, v, 10, 1); }
void Genode::print(Output &out, long v) { out_signed(out, v); }
void Genode::print(Output &out, long long v) { out_signed(out, v); }
void Genode::print(Output &out, float v) { out_float(out, v, 3); }
void Genode::print(Output &out, double v) { out_float(out, v, 6); }

void Hex::print(Output &out) const
{
	if (_prefix_mode == PREFIX) out.out_string("0x");
	/* only the value's own width: a negative int prints as 8 digits, not 16 */
	unsigned long long v = _width >= 16 ? _number : _number & ((1ULL << (4 * _width)) - 1);
	out_digits(out, v, 16, _pad_mode == PAD ? (int)_width : 1);
}

void Genode::print(Output &out, Alloc_error e)
{
	switch (e) {
	case Alloc_error::OUT_OF_RAM:  print(out, "OUT_OF_RAM");  return;
	case Alloc_error::OUT_OF_CAPS: print(out, "OUT_OF_CAPS"); return;
	case Alloc_error::DENIED:      print(out, "DENIED");      return;
	}
	print(out, "<unknown>");
}

void Ram_quota::print(Output &out) const { out_size(out, value); }
void Num_bytes::print(Output &out) const { out_size(out, _n); }

/* ---- the LOG -------------------------------------------------------------- */

void Log::Line_output::_flush()
{
	rtcr_log_n(_buf, _n);
	_n = 0;
	_lines++;
}

void Log::Line_output::out_char(char c)
{
	if (c == '\n') { _flush(); return; }
	if (_n == CAPACITY) _flush();   /* an overlong line continues on the next */
	_buf[_n++] = c;
}

Log &Log::log()
{
	static Log instance;
	return instance;
}

/* ---- errors -------------------------------------------------------------- */

void Genode::raise(Alloc_error e)
{
	switch (e) {
	case Alloc_error::OUT_OF_RAM:  throw Out_of_ram();
	case Alloc_error::OUT_OF_CAPS: throw Out_of_caps();
	case Alloc_error::DENIED:      throw Denied();
	}
	throw Denied();
}

/* A programming error: said on the LOG (a warning for a missing sub node), then thrown. */
void Genode::raise(Unexpected_error e)
{
	switch (e) {
	case Unexpected_error::INDEX_OUT_OF_BOUNDS:
		error("index out of bounds");
		throw Index_out_of_bounds();
	case Unexpected_error::NONEXISTENT_SUB_NODE:
		warning("access to a sub node that does not exist");
		throw Nonexistent_sub_node();
	case Unexpected_error::ACCESS_UNCONSTRUCTED_OBJ:
		error("access to an unconstructed object");
		throw Access_unconstructed_obj();
	case Unexpected_error::IPC_BUFFER_EXCEEDED:
		break;
	}
	error("IPC buffer exceeded");
	throw Ipc_error();
}

/* ---- memory and numbers -------------------------------------------------- */

int Genode::memcmp(void const *a, void const *b, size_t n)
{
	auto *x = (unsigned char const *)a, *y = (unsigned char const *)b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
	return 0;
}

void *Genode::memcpy(void *dst, void const *src, size_t n)
{
	return __builtin_memcpy(dst, src, n);   /* the SDK's libc memcpy */
}

void *Genode::memmove(void *dst, void const *src, size_t n)
{
	return __builtin_memmove(dst, src, n);
}

void *Genode::memset(void *dst, int c, size_t n)
{
	return __builtin_memset(dst, c, n);
}

size_t Genode::ascii_to_unsigned(char const *s, size_t n, unsigned long long &result)
{
	unsigned base = 10;
	size_t i = 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; i = 2; }
	size_t first = i;
	unsigned long long v = 0;
	for (; i < n && s[i]; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
		else break;
		v = v * base + d;
	}
	if (i == first) return 0;
	result = v;
	return i;
}

size_t Genode::ascii_to(char const *s, bool &result)
{
	struct { char const *word; bool value; } const words[] = {
		{ "yes", true }, { "true", true }, { "on", true },
		{ "no", false }, { "false", false }, { "off", false } };
	for (auto const &w : words) {
		size_t n = strlen(w.word);
		if (!strcmp(s, w.word, n)) { result = w.value; return n; }
	}
	return 0;
}

size_t Genode::ascii_to(char const *s, unsigned long long &result)
{
	return ascii_to_unsigned(s, ~0UL, result);
}

size_t Genode::ascii_to(char const *s, unsigned long &result)
{
	unsigned long long v = 0;
	size_t n = ascii_to_unsigned(s, ~0UL, v);
	if (n) result = (unsigned long)v;
	return n;
}

size_t Genode::ascii_to(char const *s, unsigned int &result)
{
	unsigned long long v = 0;
	size_t n = ascii_to_unsigned(s, ~0UL, v);
	if (n) result = (unsigned int)v;
	return n;
}

size_t Genode::ascii_to(char const *s, long long &result)
{
	bool negative = *s == '-';
	unsigned long long v = 0;
	size_t n = ascii_to_unsigned(s + negative, ~0UL, v);
	if (!n) return 0;
	result = negative ? -(long long)v : (long long)v;
	return n + negative;
}

size_t Genode::ascii_to(char const *s, long &result)
{
	long long v = 0;
	size_t n = ascii_to(s, v);
	if (n) result = (long)v;
	return n;
}

size_t Genode::ascii_to(char const *s, int &result)
{
	long long v = 0;
	size_t n = ascii_to(s, v);
	if (n) result = (int)v;
	return n;
}

size_t Genode::ascii_to(char const *s, double &result)
{
	size_t i = 0;
	bool negative = s[i] == '-';
	if (negative || s[i] == '+') i++;
	double v = 0;
	size_t digits = 0;
	for (; is_digit(s[i]); i++, digits++) v = v * 10 + (s[i] - '0');
	if (s[i] == '.') {
		i++;
		double scale = 0.1;
		for (; is_digit(s[i]); i++, digits++, scale /= 10) v += (s[i] - '0') * scale;
	}
	if (!digits) return 0;
	result = negative ? -v : v;
	return i;
}

size_t Genode::ascii_to(char const *s, float &result)
{
	double v = 0;
	size_t n = ascii_to(s, v);
	if (n) result = (float)v;
	return n;
}

size_t Genode::ascii_to(char const *s, Num_bytes &result)
{
	unsigned long long v = 0;
	size_t n = ascii_to_unsigned(s, ~0UL, v);
	if (!n) return 0;
	switch (s[n]) {
	case 'G': v <<= 30; n++; break;
	case 'M': v <<= 20; n++; break;
	case 'K': v <<= 10; n++; break;
	default: break;
	}
	result = Num_bytes((size_t)v);
	return n;
}
