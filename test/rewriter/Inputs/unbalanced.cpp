int f() { return /*coroscope:*/ 1; }
