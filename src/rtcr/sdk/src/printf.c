/*
 * snprintf/vsnprintf/sprintf and rtcr_printf of the rtcr SDK.
 *
 * Conversions: d i u x X o c s p % and f F e E g G; flags '-' '0' '+' ' '
 * '#'; width and precision (digits or '*'); length modifiers hh h l ll z j
 * t L.  Floating point is printed from the double's value with at most 17
 * significant digits taken exactly (the rest are zeros); the last printed
 * digit is rounded half to even, so results can differ from glibc's exact
 * decimal expansion in the 17th digit and beyond.  An unknown conversion is printed
 * verbatim, marked as such: "%q" comes out as "%!q".
 *
 * rtcr_printf emits one LOG line per '\n'.  A trailing partial line stays
 * in a buffer shared by all threads (guarded by a yield lock) and is
 * continued by the next rtcr_printf; rtcr_flush() emits it.
 */
#include <rtcr.h>

struct sink {
	char *buf;
	size_t size;     /* capacity of buf (0: count only) */
	size_t pos;      /* chars stored in buf */
	size_t total;    /* chars produced */
	void (*overflow)(struct sink *s); /* called when buf is full (printf) */
};

static void put(struct sink *s, char c)
{
	s->total++;
	if (s->overflow) {
		if (s->pos == s->size)
			s->overflow(s);
		s->buf[s->pos++] = c;
		if (c == '\n')
			s->overflow(s);
		return;
	}
	if (s->pos + 1 < s->size)
		s->buf[s->pos++] = c;
}

static void put_n(struct sink *s, char c, int n)
{
	while (n-- > 0)
		put(s, c);
}

static const char digits_lower[] = "0123456789abcdef";
static const char digits_upper[] = "0123456789ABCDEF";

#define F_LEFT  1
#define F_ZERO  2
#define F_PLUS  4
#define F_SPACE 8
#define F_ALT  16

static void put_number(struct sink *s, unsigned long long v, int negative,
                       unsigned base, int upper, int flags, int width, int prec,
                       const char *prefix)
{
	char tmp[24];
	int n = 0;
	const char *dig = upper ? digits_upper : digits_lower;
	char sign = 0;
	int plen = prefix ? (int)strlen(prefix) : 0;

	if (negative)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';

	if (!(v == 0 && prec == 0)) {
		do {
			tmp[n++] = dig[v % base];
			v /= base;
		} while (v);
	}
	int zeros = prec > n ? prec - n : 0;
	int len = n + zeros + (sign ? 1 : 0) + plen;
	int pad = width > len ? width - len : 0;

	if (prec < 0 && (flags & F_ZERO) && !(flags & F_LEFT)) {
		zeros += pad;
		pad = 0;
	}
	if (!(flags & F_LEFT))
		put_n(s, ' ', pad);
	if (sign)
		put(s, sign);
	for (int i = 0; i < plen; i++)
		put(s, prefix[i]);
	put_n(s, '0', zeros);
	while (n)
		put(s, tmp[--n]);
	if (flags & F_LEFT)
		put_n(s, ' ', pad);
}

/* ---- floating point ---------------------------------------------------- */

#define FLOAT_DIGITS 17   /* significant digits a double determines */

static const unsigned long long pow10[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
	1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
	1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
	1000000000000000000ULL,
};

struct text {
	char c[400];
	int n;
};

static void text_put(struct text *t, char c)
{
	if (t->n < (int)sizeof(t->c))
		t->c[t->n++] = c;
}

static void text_uint(struct text *t, unsigned long long v, int min_digits)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < min_digits)
		tmp[n++] = '0';
	while (n)
		text_put(t, tmp[--n]);
}

/* |v| in fixed notation with `prec` fraction digits (v >= 0, finite). */
static void text_fixed(struct text *t, double v, int prec, int alt)
{
	int zeros = 0; /* integer digits beyond what a double determines */
	while (v >= 1e18) {
		v /= 10;
		zeros++;
	}
	unsigned long long ip = (unsigned long long)v;
	double frac = v - (double)ip;
	int exact = prec > FLOAT_DIGITS ? FLOAT_DIGITS : prec;
	double scaled = frac * (double)pow10[exact];
	unsigned long long fp = (unsigned long long)scaled;
	double rest = scaled - (double)fp;
	/* round half to even, as C's printf does in the default rounding mode */
	if (rest > 0.5 || (rest == 0.5 && ((exact ? fp : ip) & 1)))
		fp++;
	if (fp >= pow10[exact]) {
		ip++;
		fp -= pow10[exact];
	}
	text_uint(t, ip, 1);
	for (int i = 0; i < zeros; i++)
		text_put(t, '0');
	if (prec > 0 || alt)
		text_put(t, '.');
	if (exact > 0)
		text_uint(t, fp, exact);
	for (int i = exact; i < prec; i++)
		text_put(t, '0');
}

/* Decimal exponent and mantissa in [1, 10) of v > 0. */
static int decompose(double *v)
{
	int e = 0;
	while (*v >= 1e16) { *v /= 1e16; e += 16; }
	while (*v >= 10) { *v /= 10; e++; }
	while (*v < 1e-16) { *v *= 1e16; e -= 16; }
	while (*v < 1) { *v *= 10; e--; }
	return e;
}

static void text_exp(struct text *t, double v, int prec, int alt, int upper)
{
	int e = 0;
	if (v != 0) {
		e = decompose(&v);
		/* rounding to `prec` digits may carry into a new leading digit */
		int exact = prec > FLOAT_DIGITS - 1 ? FLOAT_DIGITS - 1 : prec;
		double scaled = v * (double)pow10[exact] + 0.5;
		if (scaled >= 10.0 * (double)pow10[exact]) {
			v /= 10;
			e++;
		}
	}
	text_fixed(t, v, prec, alt);
	text_put(t, upper ? 'E' : 'e');
	text_put(t, e < 0 ? '-' : '+');
	text_uint(t, (unsigned long long)(e < 0 ? -e : e), 2);
}

static void strip_zeros(struct text *t, int from)
{
	int dot = -1, end = t->n;
	for (int i = from; i < t->n; i++)
		if (t->c[i] == '.')
			dot = i;
		else if (t->c[i] == 'e' || t->c[i] == 'E') {
			end = i;
			break;
		}
	if (dot < 0)
		return;
	int cut = end;
	while (cut > dot + 1 && t->c[cut - 1] == '0')
		cut--;
	if (cut == dot + 1)
		cut = dot;
	int tail = t->n - end;
	memmove(t->c + cut, t->c + end, (size_t)tail);
	t->n = cut + tail;
}

static void put_float(struct sink *s, double v, char conv, int flags, int width, int prec)
{
	struct text t = { .n = 0 };
	int upper = conv == 'F' || conv == 'E' || conv == 'G';
	int negative = v < 0 || (v == 0 && 1 / v < 0);
	if (negative)
		v = -v;
	if (negative)
		text_put(&t, '-');
	else if (flags & F_PLUS)
		text_put(&t, '+');
	else if (flags & F_SPACE)
		text_put(&t, ' ');
	int body = t.n;
	int finite = v == v && v - v == 0;
	if (!finite) {
		const char *word = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
		while (*word)
			text_put(&t, *word++);
		flags &= ~F_ZERO;
	} else {
		if (prec < 0)
			prec = 6;
		char kind = conv | 0x20; /* f, e or g */
		if (kind == 'f') {
			text_fixed(&t, v, prec, flags & F_ALT);
		} else if (kind == 'e') {
			text_exp(&t, v, prec, flags & F_ALT, upper);
		} else {
			int p = prec == 0 ? 1 : prec;
			int x = 0;
			if (v != 0) {
				struct text probe = { .n = 0 };
				text_exp(&probe, v, p - 1, 0, 0);
				int i = 0;
				while (probe.c[i] != 'e')
					i++;
				int ex = (probe.c[i + 2] - '0') * 10 + (probe.c[i + 3] - '0');
				for (int k = i + 4; k < probe.n; k++)
					ex = ex * 10 + (probe.c[k] - '0');
				x = probe.c[i + 1] == '-' ? -ex : ex;
			}
			if (x < p && x >= -4)
				text_fixed(&t, v, p - 1 - x, flags & F_ALT);
			else
				text_exp(&t, v, p - 1, flags & F_ALT, upper);
			if (!(flags & F_ALT))
				strip_zeros(&t, body);
		}
	}
	int pad = width > t.n ? width - t.n : 0;
	if (!(flags & F_LEFT) && !(flags & F_ZERO))
		put_n(s, ' ', pad);
	for (int i = 0; i < body; i++)
		put(s, t.c[i]);
	if (!(flags & F_LEFT) && (flags & F_ZERO))
		put_n(s, '0', pad);
	for (int i = body; i < t.n; i++)
		put(s, t.c[i]);
	if (flags & F_LEFT)
		put_n(s, ' ', pad);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(s, *fmt);
			continue;
		}
		fmt++;
		int flags = 0;
		for (;; fmt++) {
			if (*fmt == '-')
				flags |= F_LEFT;
			else if (*fmt == '0')
				flags |= F_ZERO;
			else if (*fmt == '+')
				flags |= F_PLUS;
			else if (*fmt == ' ')
				flags |= F_SPACE;
			else if (*fmt == '#')
				flags |= F_ALT;
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		int prec = -1;
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long */
		int long_double = 0;
		for (;; fmt++) {
			if (*fmt == 'L')
				long_double = 1;
			else if (*fmt == 'l')
				lng = lng < 0 ? 1 : lng + 1;
			else if (*fmt == 'h')
				lng = lng > 0 ? 0 : lng - 1;
			else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
				lng = 2;
			else
				break;
		}
		if (lng > 2)
			lng = 2;
		if (lng < -2)
			lng = -2;

		char c = *fmt;
		switch (c) {
		case 'd':
		case 'i': {
			long long v;
			if (lng >= 1)
				v = lng == 2 ? va_arg(ap, long long) : va_arg(ap, long);
			else
				v = va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng == -2)
				v = (signed char)v;
			unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
			                             : (unsigned long long)v;
			put_number(s, u, v < 0, 10, 0, flags, width, prec, NULL);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			unsigned long long v;
			if (lng >= 1)
				v = lng == 2 ? va_arg(ap, unsigned long long)
				             : va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			if (lng == -1)
				v = (unsigned short)v;
			else if (lng == -2)
				v = (unsigned char)v;
			unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
			const char *prefix = NULL;
			if ((flags & F_ALT) && v != 0)
				prefix = c == 'x' ? "0x" : c == 'X' ? "0X" : c == 'o' ? "0" : NULL;
			flags &= ~(F_PLUS | F_SPACE);
			put_number(s, v, 0, base, c == 'X', flags, width, prec, prefix);
			break;
		}
		case 'p': {
			unsigned long v = (unsigned long)va_arg(ap, void *);
			put_number(s, v, 0, 16, 0, flags & ~(F_PLUS | F_SPACE), width, prec, "0x");
			break;
		}
		case 'c': {
			char ch = (char)va_arg(ap, int);
			if (!(flags & F_LEFT))
				put_n(s, ' ', width - 1);
			put(s, ch);
			if (flags & F_LEFT)
				put_n(s, ' ', width - 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = 0;
			while (str[len] && (prec < 0 || len < prec))
				len++;
			if (!(flags & F_LEFT))
				put_n(s, ' ', width - len);
			for (int i = 0; i < len; i++)
				put(s, str[i]);
			if (flags & F_LEFT)
				put_n(s, ' ', width - len);
			break;
		}
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
			double v = long_double ? (double)va_arg(ap, long double)
			                       : va_arg(ap, double);
			put_float(s, v, c, flags, width, prec);
			break;
		}
		case '%':
			put(s, '%');
			break;
		case '\0':
			return; /* format ends inside a conversion */
		default: /* unknown conversion: verbatim, marked so nobody mistakes it */
			put(s, '%');
			put(s, '!');
			put(s, c);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0, 0, NULL };
	format(&s, fmt, ap);
	if (size)
		buf[s.pos] = 0;
	return (int)s.total;
}

int vsprintf(char *buf, const char *fmt, va_list ap)
{
	return vsnprintf(buf, (size_t)-1 >> 1, fmt, ap);
}

int sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsprintf(buf, fmt, ap);
	va_end(ap);
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- rtcr_printf --------------------------------------------------------- */

static char line_buf[RTCR_LINE_MAX];
static size_t line_len;
static int line_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&line_lock, 1, __ATOMIC_ACQUIRE))
		rtcr_yield();
}

static void unlock(void)
{
	__atomic_store_n(&line_lock, 0, __ATOMIC_RELEASE);
}

/* Emit the buffered line (without a trailing '\n'). */
static void emit_line(struct sink *s)
{
	size_t n = s->pos;
	if (n && s->buf[n - 1] == '\n')
		n--;
	rtcr_log_n(s->buf, n);
	s->pos = 0;
}

int rtcr_vprintf(const char *fmt, va_list ap)
{
	lock();
	struct sink s = { line_buf, sizeof(line_buf), line_len, 0, emit_line };
	format(&s, fmt, ap);
	line_len = s.pos;
	unlock();
	return (int)s.total;
}

int rtcr_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = rtcr_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* Used by rtcr_exit: never wait for a lock another (maybe blocked) thread holds. */
void _rtcr_flush_on_exit(void)
{
	if (__atomic_exchange_n(&line_lock, 1, __ATOMIC_ACQUIRE))
		return;
	if (line_len) {
		rtcr_log_n(line_buf, line_len);
		line_len = 0;
	}
	unlock();
}

void rtcr_flush(void)
{
	lock();
	if (line_len) {
		rtcr_log_n(line_buf, line_len);
		line_len = 0;
	}
	unlock();
}
