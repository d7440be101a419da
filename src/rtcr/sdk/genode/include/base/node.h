/*
 * Structured data of the Genode API, in either of Genode's two syntaxes:
 * XML (`<config verbose="yes"> <start name="a"/> </config>`) or HID, the
 * indented "human-inclined data" form (`config | verbose: yes` with
 * `+ start a` sub nodes, `|`-compacted lines, `:` quoted lines, `.`
 * comments, `x` disabled nodes, `-` end marker).  The syntax is detected
 * from the first character.  A Node refers to the text, which must outlive
 * it (the config ROM does).
 */
#ifndef _RTCR_SDK__BASE__NODE_H_
#define _RTCR_SDK__BASE__NODE_H_

#include <util/string.h>

namespace Genode { class Node; }

class Genode::Node
{
	public:

		using Type = String<64>;

		struct Attribute
		{
			using Name = String<64>;
			Name const name;
			Span value;
		};

	private:

		enum class Syntax { EMPTY, XML, HID };

		Syntax       _syntax = Syntax::EMPTY;
		char const  *_start  = nullptr;   /* XML: the '<'; HID: the node's header segment */
		char const  *_end    = nullptr;   /* XML: after the element; HID: end of the document */
		unsigned     _column = 0;         /* HID: column of the header segment */

		Node(Syntax syntax, char const *start, char const *end, unsigned column)
		: _syntax(syntax), _start(start), _end(end), _column(column) { }

		struct Sub_node_fn : Interface
		{
			virtual bool visit(Node const &) = 0;   /* true: stop */
		};

		struct Attribute_fn : Interface
		{
			virtual bool visit(Span const &name, Span const &value) = 0;   /* true: stop */
		};

		void _for_each_sub_node(Sub_node_fn &) const;
		void _for_each_attribute(Attribute_fn &) const;
		bool _attribute(char const *name, Span &value) const;

		template <typename T>
		static bool _parse(Span const &v, T &out)
		{
			char buf[96];
			if (v.num_bytes >= sizeof(buf)) return false;
			memcpy(buf, v.start, v.num_bytes);
			buf[v.num_bytes] = 0;
			return v.num_bytes > 0 && ascii_to(buf, out) == v.num_bytes;
		}

		template <size_t N>
		static bool _parse(Span const &v, String<N> &out)
		{
			out = String<N>(Cstring(v.start, v.num_bytes));
			return true;
		}

	public:

		Node() { }   /* the empty node: type "empty", nothing in it */

		Node(Span const &bytes);

		template <size_t N>
		Node(String<N> const &s) : Node(Span(s.string(), s.length() ? s.length() - 1 : 0)) { }

		Type type() const;
		bool has_type(char const *type) const { return type == this->type(); }

		bool has_attribute(char const *name) const { Span v { nullptr, 0 }; return _attribute(name, v); }

		/* The attribute's value as T, or `default_value` if it is missing or does not parse. */
		template <typename T>
		T attribute_value(char const *name, T const default_value) const
		{
			Span v { nullptr, 0 };
			T result = default_value;
			if (_attribute(name, v) && _parse(v, result))
				return result;
			return default_value;
		}

		void for_each_attribute(auto const &fn) const
		{
			struct F : Attribute_fn
			{
				decltype(fn) &f;
				F(decltype(fn) &f) : f(f) { }
				bool visit(Span const &n, Span const &v) override
				{
					Attribute const a { Attribute::Name(Cstring(n.start, n.num_bytes)),
					                    Span(v.start, v.num_bytes) };
					f(a);
					return false;
				}
			} visitor { fn };
			_for_each_attribute(visitor);
		}

		void for_each_sub_node(auto const &fn) const
		{
			struct F : Sub_node_fn
			{
				decltype(fn) &f;
				F(decltype(fn) &f) : f(f) { }
				bool visit(Node const &n) override { f(n); return false; }
			} visitor { fn };
			_for_each_sub_node(visitor);
		}

		void for_each_sub_node(char const *type, auto const &fn) const
		{
			for_each_sub_node([&] (Node const &n) { if (n.has_type(type)) fn(n); });
		}

		/* fn(first sub node of that type), or missing_fn(). */
		auto with_sub_node(char const *type, auto const &fn, auto const &missing_fn) const
		-> decltype(missing_fn())
		{
			struct F : Sub_node_fn
			{
				char const *type; bool found = false; Node match { };
				F(char const *t) : type(t) { }
				bool visit(Node const &n) override
				{
					if (!n.has_type(type)) return false;
					match = n; found = true; return true;
				}
			} visitor { type };
			_for_each_sub_node(visitor);
			if (visitor.found) return fn(visitor.match);
			return missing_fn();
		}

		/* fn(the n-th sub node), or missing_fn(). */
		auto with_sub_node(unsigned n, auto const &fn, auto const &missing_fn) const
		-> decltype(missing_fn())
		{
			struct F : Sub_node_fn
			{
				unsigned left; bool found = false; Node match { };
				F(unsigned n) : left(n) { }
				bool visit(Node const &node) override
				{
					if (left--) return false;
					match = node; found = true; return true;
				}
			} visitor { n };
			_for_each_sub_node(visitor);
			if (visitor.found) return fn(visitor.match);
			return missing_fn();
		}

		void with_optional_sub_node(char const *type, auto const &fn) const
		{
			with_sub_node(type, fn, [&] { });
		}

		bool has_sub_node(char const *type) const
		{
			return with_sub_node(type, [&] (Node const &) { return true; }, [&] { return false; });
		}

		unsigned num_sub_nodes() const
		{
			unsigned n = 0;
			for_each_sub_node([&] (Node const &) { n++; });
			return n;
		}

		void print(Output &out) const;   /* type and attributes, for diagnostics */
};

#endif /* _RTCR_SDK__BASE__NODE_H_ */
