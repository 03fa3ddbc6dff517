// Text between markers that coroscope does not write.
int f() { return /*coroscope:*/ 1 + /*:coroscope*/ 2; }
