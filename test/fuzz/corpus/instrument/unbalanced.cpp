int f() { return /*coroscope:*/(COROSCOPE_I_AT(1), /*:coroscope*/ 1; }
