/*
 * Parsing Genode's structured data: XML and HID (doc/hid.txt of Genode).
 *
 * Nothing is copied or allocated: a Node is a position in the text, and
 * every query scans from there.
 *
 * HID is read as a sequence of *segments*: each line is split at '|'
 * (except that a segment starting with ':' or '.' -- quoted content, a
 * comment -- takes the rest of the line), and each segment keeps the
 * column it starts at.  A node's scope is every following segment at a
 * column at least that of the node's type word; an inner '+' node opens a
 * scope of its own the same way, so attributes and sub nodes belong to the
 * innermost node whose scope holds them.
 */
#include <base/node.h>

using namespace Genode;

namespace {

	/* A piece of the text (Genode's Span is not assignable). */
	struct Piece
	{
		char const *start = nullptr;
		size_t num_bytes = 0;
		Piece() { }
		Piece(char const *s, size_t n) : start(s), num_bytes(n) { }
	};

	/* ---- HID ----------------------------------------------------------- */

	enum class Kind { TOP, NODE, DISABLED, ATTRIBUTE, QUOTE, COMMENT, END, OTHER };

	struct Segment
	{
		char const *text;   /* without leading spaces */
		size_t      len;    /* without trailing spaces */
		unsigned    col;
		Kind        kind;
	};

	bool is_tag_char(char c)
	{
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
		    || (c >= 'A' && c <= 'Z');
	}

	/* Reads segments line by line from `p`; `col` is the column of `p` in its line. */
	struct Cursor
	{
		char const *p, *end;
		unsigned col;
		bool first_of_document;

		bool next(Segment &seg)
		{
			for (;;) {
				while (p < end && *p == ' ') { p++; col++; }
				if (p >= end) return false;
				if (*p == '\n') { p++; col = 0; continue; }
				if (*p == '\r' || *p == '\t') { p++; col++; continue; }
				if (*p == '|') { p++; col++; continue; }   /* empty segment: scoping decor */
				char const *start = p;
				unsigned const start_col = col;
				bool const whole_line = (*p == ':' || *p == '.')
				                        && (p + 1 >= end || p[1] == ' ' || p[1] == '\n');
				while (p < end && *p != '\n' && (whole_line || *p != '|')) { p++; col++; }
				char const *stop = p;
				while (stop > start && (stop[-1] == ' ' || stop[-1] == '\r')) stop--;
				seg = { start, size_t(stop - start), start_col, classify(start, stop) };
				if (first_of_document && seg.kind != Kind::COMMENT) {
					seg.kind = Kind::TOP;
					first_of_document = false;
				}
				return true;
			}
		}

		static Kind classify(char const *s, char const *e)
		{
			size_t n = size_t(e - s);
			if (n == 1 && *s == '-') return Kind::END;
			if (*s == ':') return Kind::QUOTE;
			if (*s == '.') return Kind::COMMENT;
			if (n >= 2 && s[0] == '+' && s[1] == ' ') return Kind::NODE;
			if (n >= 2 && s[0] == 'x' && s[1] == ' ') return Kind::DISABLED;
			size_t i = 0;
			while (i < n && is_tag_char(s[i])) i++;
			if (i > 0 && i < n && s[i] == ':') return Kind::ATTRIBUTE;
			return Kind::OTHER;
		}
	};

	/* The type word of a node header ("+ start osci", "config") and what follows it. */
	void header_parts(Segment const &seg, Piece &type, Piece &name, unsigned &type_col)
	{
		char const *s = seg.text, *e = seg.text + seg.len;
		if (seg.kind == Kind::NODE || seg.kind == Kind::DISABLED) s += 2;
		while (s < e && *s == ' ') s++;
		type_col = seg.col + unsigned(s - seg.text);
		char const *t = s;
		while (t < e && *t != ' ') t++;
		type = Piece(s, size_t(t - s));
		while (t < e && *t == ' ') t++;
		name = Piece(t, size_t(e - t));
	}

	void attribute_parts(Segment const &seg, Piece &tag, Piece &value)
	{
		char const *s = seg.text, *e = seg.text + seg.len;
		char const *colon = s;
		while (colon < e && *colon != ':') colon++;
		tag = Piece(s, size_t(colon - s));
		char const *v = colon < e ? colon + 1 : e;
		while (v < e && *v == ' ') v++;
		value = Piece(v, size_t(e - v));
	}

	/*
	 * Walk the scope of the HID node whose header starts at `start` (column
	 * `col`), calling fn(segment, depth) for each segment in it (depth 0:
	 * the node's own; a sub node's header comes with depth 0 too).
	 */
	template <typename FN>
	void hid_walk(char const *start, char const *end, unsigned col, FN const &fn)
	{
		Cursor cursor { start, end, col, false };
		Segment header { };
		if (!cursor.next(header)) return;
		Piece type { }, name { };
		unsigned own_col = 0;
		header_parts(header, type, name, own_col);
		if (header.kind == Kind::TOP) own_col = 0;   /* the top node's scope: everything */

		enum { MAX_DEPTH = 64 };
		unsigned open[MAX_DEPTH];
		unsigned depth = 0;
		Segment seg { };
		while (cursor.next(seg)) {
			if (seg.kind == Kind::END && seg.col == 0) return;
			while (depth && open[depth - 1] > seg.col) depth--;
			if (!depth && seg.col < own_col) return;
			if (fn(seg, depth)) return;
			if (seg.kind == Kind::NODE || seg.kind == Kind::DISABLED) {
				Piece t { }, n { };
				unsigned type_col = 0;
				header_parts(seg, t, n, type_col);
				if (depth < MAX_DEPTH) open[depth++] = type_col;
			}
		}
	}

	/* ---- XML ----------------------------------------------------------- */

	char const *skip_space(char const *p, char const *e)
	{
		while (p < e && is_whitespace(*p)) p++;
		return p;
	}

	bool starts(char const *p, char const *e, char const *word)
	{
		size_t n = strlen(word);
		return size_t(e - p) >= n && !memcmp(p, word, n);
	}

	/* Past a comment, processing instruction or declaration at p ('<'), or p. */
	char const *skip_markup(char const *p, char const *e)
	{
		if (starts(p, e, "<!--")) {
			for (p += 4; p < e && !starts(p, e, "-->"); p++) ;
			return p < e ? p + 3 : e;
		}
		if (starts(p, e, "<?") || starts(p, e, "<!")) {
			while (p < e && *p != '>') p++;
			return p < e ? p + 1 : e;
		}
		return p;
	}

	/* The end of the start tag at p ('<'): after its '>'; `empty` if it was "/>". */
	char const *start_tag_end(char const *p, char const *e, bool &empty)
	{
		char quote = 0;
		for (p++; p < e; p++) {
			if (quote) { if (*p == quote) quote = 0; continue; }
			if (*p == '"' || *p == '\'') { quote = *p; continue; }
			if (*p == '>') { empty = p[-1] == '/'; return p + 1; }
		}
		empty = true;
		return e;
	}

	/* Past the element starting at p ('<'), its content and closing tag. */
	char const *element_end(char const *p, char const *e, int depth = 0)
	{
		bool empty = false;
		char const *q = start_tag_end(p, e, empty);
		if (empty || depth > 64) return q;
		while (q < e) {
			if (*q != '<') { q++; continue; }
			char const *skipped = skip_markup(q, e);
			if (skipped != q) { q = skipped; continue; }
			if (starts(q, e, "</")) {
				while (q < e && *q != '>') q++;
				return q < e ? q + 1 : e;
			}
			q = element_end(q, e, depth + 1);
		}
		return e;
	}

	Piece xml_type(char const *p, char const *e)
	{
		char const *s = p + 1, *t = s;
		while (t < e && !is_whitespace(*t) && *t != '/' && *t != '>') t++;
		return Piece(s, size_t(t - s));
	}

	/* fn(name, value) for each attribute of the start tag at p; stops when fn says so. */
	template <typename FN>
	void xml_attributes(char const *p, char const *e, FN const &fn)
	{
		Piece type = xml_type(p, e);
		char const *q = type.start + type.num_bytes;
		for (;;) {
			q = skip_space(q, e);
			if (q >= e || *q == '>' || *q == '/') return;
			char const *n = q;
			while (q < e && *q != '=' && !is_whitespace(*q) && *q != '>') q++;
			Span name(n, size_t(q - n));
			q = skip_space(q, e);
			if (q >= e || *q != '=') return;
			q = skip_space(q + 1, e);
			if (q >= e || (*q != '"' && *q != '\'')) return;
			char const quote = *q++;
			char const *v = q;
			while (q < e && *q != quote) q++;
			if (fn(name, Span(v, size_t(q - v)))) return;
			q++;
		}
	}

	bool span_is(Span const &s, char const *word)
	{
		return s.num_bytes == strlen(word) && !memcmp(s.start, word, s.num_bytes);
	}
}

Node::Node(Span const &bytes)
{
	char const *p = bytes.start, *e = bytes.start + bytes.num_bytes;
	for (;;) {
		p = skip_space(p, e);
		if (p >= e) return;
		if (*p != '<') break;
		char const *skipped = skip_markup(p, e);
		if (skipped == p) {
			_syntax = Syntax::XML;
			_start = p;
			_end = element_end(p, e);
			return;
		}
		p = skipped;
	}
	/* HID: the header is the first line's first segment (comments aside). */
	Cursor cursor { bytes.start, e, 0, true };
	Segment seg { };
	if (!cursor.next(seg) || seg.kind != Kind::TOP) return;
	_syntax = Syntax::HID;
	_start = seg.text;
	_end = e;
	_column = seg.col;
}

Node::Type Node::type() const
{
	if (_syntax == Syntax::XML) {
		Piece t = xml_type(_start, _end);
		return Type(Cstring(t.start, t.num_bytes));
	}
	if (_syntax == Syntax::HID) {
		Cursor cursor { _start, _end, _column, false };
		Segment seg { };
		if (!cursor.next(seg)) return Type("empty");
		Piece type { }, name { };
		unsigned col = 0;
		header_parts(seg, type, name, col);
		return Type(Cstring(type.start, type.num_bytes));
	}
	return Type("empty");
}

void Node::_for_each_attribute(Attribute_fn &fn) const
{
	if (_syntax == Syntax::XML) {
		xml_attributes(_start, _end, [&] (Span const &n, Span const &v) { return fn.visit(n, v); });
		return;
	}
	if (_syntax != Syntax::HID) return;
	Cursor cursor { _start, _end, _column, false };
	Segment header { };
	if (!cursor.next(header)) return;
	Piece type { }, name { };
	unsigned col = 0;
	header_parts(header, type, name, col);
	if (name.num_bytes && fn.visit(Span("name", 4), Span(name.start, name.num_bytes)))
		return;
	hid_walk(_start, _end, _column, [&] (Segment const &seg, unsigned depth) {
		if (depth || seg.kind != Kind::ATTRIBUTE) return false;
		Piece tag { }, value { };
		attribute_parts(seg, tag, value);
		return fn.visit(Span(tag.start, tag.num_bytes), Span(value.start, value.num_bytes));
	});
}

bool Node::_attribute(char const *name, Span &value) const
{
	struct Find : Attribute_fn
	{
		char const *name; Span &value; bool found = false;
		Find(char const *n, Span &v) : name(n), value(v) { }
		bool visit(Span const &n, Span const &v) override
		{
			if (!span_is(n, name)) return false;
			/* the first definition counts (doc/hid.txt: runtime interpretation) */
			new (&value) Span(v.start, v.num_bytes);
			found = true;
			return true;
		}
	} find { name, value };
	_for_each_attribute(find);
	return find.found;
}

void Node::_for_each_sub_node(Sub_node_fn &fn) const
{
	if (_syntax == Syntax::XML) {
		bool empty = false;
		char const *q = start_tag_end(_start, _end, empty);
		if (empty) return;
		while (q < _end) {
			if (*q != '<') { q++; continue; }
			char const *skipped = skip_markup(q, _end);
			if (skipped != q) { q = skipped; continue; }
			if (starts(q, _end, "</")) return;
			char const *after = element_end(q, _end);
			if (fn.visit(Node(Syntax::XML, q, after, 0))) return;
			q = after;
		}
		return;
	}
	if (_syntax != Syntax::HID) return;
	hid_walk(_start, _end, _column, [&] (Segment const &seg, unsigned depth) {
		if (depth || seg.kind != Kind::NODE) return false;
		return fn.visit(Node(Syntax::HID, seg.text, _end, seg.col));
	});
}

void Node::print(Output &out) const
{
	Genode::print(out, type());
	for_each_attribute([&] (Attribute const &a) {
		Genode::print(out, " ", a.name, "=", a.value);
	});
}
