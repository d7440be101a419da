/*
 * long_lines -- many long LOG lines, each of characters that are not ASCII.
 *
 * Test workload for output under signals: a reader that does not read
 * fills the pipe after a few lines, and rtcr is then blocked in the middle
 * of writing one, where a SIGINT interrupts the write after part of the
 * line. Every line holds bytes that are not UTF-8 (rtcr prints each as the
 * three-byte replacement character), so a line cut short shows as bytes
 * that are not UTF-8; each line begins with its number, so a lost line shows.
 */
#include <rtcr.h>

#define LINES 400
#define LINE_BYTES 20000

static char line[LINE_BYTES];

int main(void)
{
	for (int n = 0; n < LINES; ++n) {
		int head = snprintf(line, sizeof line, "line %d ", n);
		for (int i = head; i < LINE_BYTES; ++i)
			line[i] = (char)0xff;
		rtcr_log_n(line, LINE_BYTES);
	}
	rtcr_printf("long_lines done\n");
	return 0;
}
