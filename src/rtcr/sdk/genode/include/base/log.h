/*
 * LOG output of the Genode API: log(), warning(), error() print their
 * arguments as one LOG line (split at newlines); warning and error lines
 * start with "Warning: " and "Error: ", as Genode prints them (without
 * Genode's terminal colour codes).
 */
#ifndef _RTCR_SDK__BASE__LOG_H_
#define _RTCR_SDK__BASE__LOG_H_

#include <base/output.h>
#include <util/string.h>

namespace Genode {
	class Log;
	class Raw;
}

class Genode::Log
{
	public:

		enum Type { LOG, WARNING, ERROR };

		/*
		 * Collects one message on the caller's stack and hands it to the
		 * machine line by line: threads never share a buffer, so no lock.
		 */
		struct Line_output : Output
		{
			enum { CAPACITY = 512 };
			char     _buf[CAPACITY];
			size_t   _n = 0;
			unsigned _lines = 0;

			void _flush();
			void out_char(char c) override;
			~Line_output() { if (_n || !_lines) _flush(); }
		};

		static Log &log();

		void output(Type type, auto &&... args)
		{
			Line_output out { };
			if (type == WARNING) out.out_string("Warning: ");
			if (type == ERROR)   out.out_string("Error: ");
			Output::out_args(out, args...);
		}

		struct Log_fn
		{
			Log_fn(auto &&... args) { log().output(LOG, args...); }
		};
};

class Genode::Raw
{
	public:

		static void output(auto &&... args)
		{
			Log::Line_output out { };
			Output::out_args(out, args...);
		}
};

namespace Genode {
	void log(auto &&... args)     { Log::Log_fn(args...); }
	void warning(auto &&... args) { Log::log().output(Log::WARNING, args...); }
	void error(auto &&... args)   { Log::log().output(Log::ERROR, args...); }
	void raw(auto &&... args)     { Raw::output(args...); }
}

#endif /* _RTCR_SDK__BASE__LOG_H_ */
