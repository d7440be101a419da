/*
 * Prints its inputs -- argc/argv, the environment, getenv, and its stdin read
 * as a stream in three rounds of work -- so that a restored run can be
 * compared with the original: the rounds after a checkpoint print the same
 * arguments and read stdin on from where the checkpoint left it.
 */
#include <rtcr.h>

int main(int argc, char **argv, char **envp)
{
	rtcr_printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		rtcr_printf("argv[%d] '%s'\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		rtcr_printf("env '%s'\n", *e);
	const char *mode = getenv("MODE");
	rtcr_printf("getenv MODE %s\n", mode ? mode : "(unset)");
	unsigned long x = 1;
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 300000; k++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		char buf[8];
		long n = rtcr_stdin_read(buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		rtcr_printf("round %d (%lx) argv[%d] '%s' stdin %ld '%s'\n", round, x & 0xff,
		            argc - 1, argc ? argv[argc - 1] : "", n, buf);
	}
	return 0;
}
