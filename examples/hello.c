/*
 * hello -- the smallest component: one LOG line, exit status 0.
 *
 * Demonstrates: crt0 entering main, rtcr_printf emitting one LOG line per
 * '\n', returning from main ending the component with main's value.
 *
 * Expected output (stdout of `rtcr run hello.elf`):
 *   [hello] Hello from rtcr!
 * exit status 0
 */
#include <rtcr.h>

int main(void)
{
	rtcr_printf("Hello from rtcr!\n");
	return 0;
}
