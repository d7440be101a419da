/*
 * The component's inputs: main(argc, argv, envp), environ, getenv and the
 * stdin stream (rtcr run X.elf --env K=V --stdin FILE -- ARGS...).
 *
 * rtcr hands them over as ROM modules (rtcr.abi): RTCR_ARGS_ROM holds three
 * u64 (argc, envc, bytes of stdin) and then the argv and "K=V" strings, each
 * NUL-terminated; RTCR_STDIN_ROM holds the stdin bytes.  Nothing is there
 * when the component was started without inputs: argc is 0, argv and envp
 * are empty lists.  The strings are copied to the heap, as C wants them
 * modifiable.  Being ROMs, the inputs are in every checkpoint, and the
 * stream position is this component's own memory: a restored component
 * reads on exactly where it was.
 */
#include <rtcr.h>

struct args_header {
	unsigned long argc;
	unsigned long envc;
	unsigned long stdin_size;
};

static char *no_strings[1];
char **environ = no_strings;

static unsigned long stdin_size;
static unsigned long stdin_pos;
static const char *stdin_data;

static const void *rom_at(const char *name)
{
	long ds = rtcr_rom_open(name);
	if (ds < 0)
		return 0;
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, 0);
	return at < 0 ? 0 : (const void *)at;
}

void _rtcr_args(int *argc, char ***argv, char ***envp)
{
	*argc = 0;
	*argv = no_strings;
	*envp = no_strings;
	const struct args_header *h = rom_at(RTCR_ARGS_ROM);
	if (!h)
		return;
	unsigned long n = h->argc + h->envc;
	const char *first = (const char *)(h + 1), *end = first;
	for (unsigned long i = 0; i < n; i++)
		end += strlen(end) + 1;
	/* argv, its NULL, envp, its NULL, then the strings */
	char **v = malloc((n + 2) * sizeof(char *) + (size_t)(end - first));
	if (!v) {
		rtcr_log("rtcr: no heap for the arguments: main gets none");
		return;
	}
	char *copy = (char *)(v + n + 2);
	memcpy(copy, first, (size_t)(end - first));
	char **slot = v;
	for (unsigned long i = 0; i < n; i++) {
		if (i == h->argc)
			*slot++ = 0;
		*slot++ = copy;
		copy += strlen(copy) + 1;
	}
	if (h->envc == 0)
		*slot++ = 0;
	*slot = 0;
	*argc = (int)h->argc;
	*argv = v;
	*envp = v + h->argc + 1;
	environ = *envp;
	stdin_size = h->stdin_size;
}

char *getenv(const char *name)
{
	size_t len = strlen(name);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return 0;
}

long rtcr_stdin_read(void *buf, unsigned long n)
{
	if (stdin_pos >= stdin_size)
		return 0;
	if (!stdin_data) {
		stdin_data = rom_at(RTCR_STDIN_ROM);
		if (!stdin_data)
			return -RTCR_EINVAL;
	}
	unsigned long left = stdin_size - stdin_pos;
	if (n > left)
		n = left;
	memcpy(buf, stdin_data + stdin_pos, n);
	stdin_pos += n;
	return (long)n;
}
