// The runtime include in the middle of the file.
int x;
/*coroscope:*/#include <coroscope/coroscope.hpp>
#line 1
/*:coroscope*/int y;
