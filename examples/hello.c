/*
 * hello -- the smallest component: one LOG line, exit status 0.
 *
 * Demonstrates: crt0 entering main, rtcr_printf emitting one LOG line per
 * '\n', returning from main ending the component with main's value, and the
 * inputs: `rtcr run hello.elf --env NAME=Ada -- one two` also prints
 * "argument 1: one", "argument 2: two" and "Hello, Ada!".
 *
 * Expected output (stdout of `rtcr run hello.elf`):
 *   [hello] Hello from rtcr!
 * exit status 0
 */
#include <rtcr.h>

int main(int argc, char **argv)
{
	rtcr_printf("Hello from rtcr!\n");
	for (int i = 1; i < argc; i++)
		rtcr_printf("argument %d: %s\n", i, argv[i]);
	const char *name = getenv("NAME");
	if (name)
		rtcr_printf("Hello, %s!\n", name);
	return 0;
}
