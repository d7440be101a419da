/*
 * snprintf/vsnprintf and rtcr_printf of the rtcr SDK (no floating point).
 *
 * Conversions: d i u x X o c s p %; flags '-' '0' '+' ' ' '#'; width and
 * precision (digits or '*'); length modifiers hh h l ll z j t.
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
		for (;; fmt++) {
			if (*fmt == 'l')
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
		case '%':
			put(s, '%');
			break;
		case '\0':
			return; /* format ends inside a conversion */
		default: /* unknown conversion: print it verbatim */
			put(s, '%');
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
