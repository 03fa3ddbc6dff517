// A closing parenthesis with no hook before it.
int f(int x) { return x/*coroscope:*/)/*:coroscope*/; }
