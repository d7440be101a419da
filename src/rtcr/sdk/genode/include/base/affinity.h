/*
 * CPU affinity of the Genode API (rtcr emulates one CPU: every location is it).
 */
#ifndef _RTCR_SDK__BASE__AFFINITY_H_
#define _RTCR_SDK__BASE__AFFINITY_H_

namespace Genode { class Affinity; }

class Genode::Affinity
{
	public:

		class Location
		{
			private:

				/* a rectangle in the CPU grid; the empty default means "none given" */
				int      _col  = 0, _row  = 0;
				unsigned _cols = 0, _rows = 0;

			public:

				Location() { }
				Location(int xpos, int ypos, unsigned width = 1, unsigned height = 1)
				: _col(xpos), _row(ypos), _cols(width), _rows(height) { }

				int      xpos()   const { return _col;  }
				int      ypos()   const { return _row;  }
				unsigned width()  const { return _cols; }
				unsigned height() const { return _rows; }
				bool     valid()  const { return _cols != 0 && _rows != 0; }
		};
};

#endif /* _RTCR_SDK__BASE__AFFINITY_H_ */
