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

				int _xpos = 0, _ypos = 0;
				unsigned _width = 0, _height = 0;

			public:

				Location() { }
				Location(int xpos, int ypos, unsigned width = 1, unsigned height = 1)
				: _xpos(xpos), _ypos(ypos), _width(width), _height(height) { }

				int xpos() const { return _xpos; }
				int ypos() const { return _ypos; }
				unsigned width()  const { return _width; }
				unsigned height() const { return _height; }
				bool valid() const { return _width * _height > 0; }
		};
};

#endif /* _RTCR_SDK__BASE__AFFINITY_H_ */
