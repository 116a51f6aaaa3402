/* A small C file compiled by GCC (cc1 for AVR) to assembly. */
unsigned char fib(unsigned char n) { unsigned char a = 0, b = 1; while (n--) { unsigned char t = a + b; a = b; b = t; } return a; }
volatile unsigned char out;
int main(void) { for (unsigned char i = 0; i < 10; i++) out = fib(i); return 0; }
