/*
 * A component tree in which the parent is the pager of its child: every
 * fault of the child on its paged windows reaches the parent, which takes
 * its time (a stretch of work while the child waits), then resolves it.
 *
 * The parent starts its own binary as the child "paged" in a PD it gave
 * quota to.  For each of ROUNDS windows (a dataspace of the parent's) the
 * child's first read faults (READ: nothing attached), the parent attaches
 * the window read-only; the child's write faults (WRITE), the parent
 * attaches it writable; the child's call into the window's second page
 * faults (EXEC), the parent writes a function there and attaches it
 * executable.  Meanwhile a second thread of the child fills its own RAM.
 * The child answers through a delegated signal context and exits with a
 * value the parent learns through its exit signal.  The role comes from the
 * quota: the child gets 1 MiB.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/attached_ram_dataspace.h>
#include <pd_session/connection.h>
#include <region_map/client.h>
#include <rom_session/connection.h>
#include <rtcr.h>

using namespace Genode;

enum {
	PAGED      = 0x18000000,   /* the first window, in the child's address space */
	WINDOW     = 0x10000,      /* distance between two windows */
	CODE       = 0x1000,       /* the function's page inside a window */
	ROUNDS     = 3,
	CHILD_RAM  = 1024 * 1024,
	WORK       = 3000,         /* steps of the parent's work per fault */
	TABLE      = 64,           /* words the child writes into a window */
	OWN_WORDS  = 16 * 1024,    /* words the child's helper thread writes */
	EXIT_VALUE = 42,
};

/* what the parent leaves in the first words of every window */
enum { ANSWER_SELECTOR, WINDOW_SELECTOR, ROUND, WORK_RESULT, FIRST_TABLE_WORD = 8 };

static char const *type_name(Region_map::Fault::Type type)
{
	switch (type) {
	case Region_map::Fault::Type::READ:  return "READ";
	case Region_map::Fault::Type::WRITE: return "WRITE";
	case Region_map::Fault::Type::EXEC:  return "EXEC";
	default:                             return "NONE";
	}
}

struct Parent_role
{
	Env &env;
	Pd_connection pd { env, "paged" };
	Region_map_client space { (pd.ref_account(env.pd_session_cap()),
	                           (void)env.pd().transfer_quota(pd.cap(), Ram_quota { CHILD_RAM }),
	                           (void)env.pd().transfer_quota(pd.cap(), Cap_quota { 40 }),
	                           pd.address_space()) };
	Attached_ram_dataspace windows[ROUNDS] {
		{ env.ram(), env.rm(), 2 * 4096 }, { env.ram(), env.rm(), 2 * 4096 },
		{ env.ram(), env.rm(), 2 * 4096 } };
	Signal_handler<Parent_role> fault_sigh  { env.ep(), *this, &Parent_role::handle_fault };
	Signal_handler<Parent_role> answer_sigh { env.ep(), *this, &Parent_role::handle_answer };
	Signal_handler<Parent_role> exit_sigh   { env.ep(), *this, &Parent_role::handle_exit };
	Rom_connection binary { env, "tree_pager" };
	unsigned long seed = 1;
	unsigned faults = 0;

	unsigned long volatile *words(unsigned round) {
		return windows[round].local_addr<unsigned long volatile>(); }

	/* the parent's share of a fault: work the child waits for */
	unsigned long work()
	{
		for (unsigned i = 0; i < WORK; i++)
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		return seed >> 33;
	}

	void attach(unsigned round, bool writeable, bool executable)
	{
		addr_t const at = PAGED + round * WINDOW;
		space.attach(windows[round].cap(), { .size = { }, .offset = { }, .use_at = true,
		                                     .at = at, .executable = executable,
		                                     .writeable = writeable }).with_result(
			[&] (Region_map::Range) { },
			[&] (Region_map::Attach_error) { error("parent: attach failed at ", Hex(at)); });
	}

	void handle_fault()
	{
		Region_map::Fault const f = space.fault();
		unsigned const round = (unsigned)((f.addr - PAGED) / WINDOW);
		log("parent: fault ", ++faults, ": ", type_name(f.type), " at ", Hex(f.addr),
		    " (window ", round, ")");
		words(round)[WORK_RESULT] = work();
		switch (f.type) {
		case Region_map::Fault::Type::READ:
			attach(round, false, false);
			break;
		case Region_map::Fault::Type::WRITE:
			space.detach(PAGED + round * WINDOW);
			attach(round, true, false);
			break;
		case Region_map::Fault::Type::EXEC:
			{
				/* mov eax, imm32; ret */
				unsigned char volatile *code =
					windows[round].local_addr<unsigned char volatile>() + CODE;
				unsigned const value = 7 * round + 1;
				code[0] = 0xb8;
				for (unsigned i = 0; i < 4; i++)
					code[1 + i] = (unsigned char)(value >> (8 * i));
				code[5] = 0xc3;
				space.detach(PAGED + round * WINDOW);
				attach(round, true, true);
			}
			break;
		default:
			error("parent: no fault to resolve");
		}
	}

	void handle_answer()
	{
		unsigned long sum = 0;
		for (unsigned r = 0; r < ROUNDS; r++)
			for (unsigned i = 0; i < TABLE; i++)
				sum += words(r)[FIRST_TABLE_WORD + i];
		log("parent: child answered, tables sum to ", Hex(sum));
	}

	void handle_exit()
	{
		log("parent: child exited with ", rtcr_child_exit_value(pd.cap().selector()),
		    " after ", faults, " faults");
		env.parent().exit(0);
	}

	Parent_role(Env &env) : env(env)
	{
		space.fault_handler(fault_sigh);
		long const answer = rtcr_cap_delegate(pd.cap().selector(),
		                                      Signal_context_capability(answer_sigh).selector());
		for (unsigned r = 0; r < ROUNDS; r++) {
			words(r)[ANSWER_SELECTOR] = answer;
			words(r)[WINDOW_SELECTOR] = rtcr_cap_delegate(pd.cap().selector(),
			                                              windows[r].cap().selector());
			words(r)[ROUND] = r;
		}
		long const started = rtcr_child_start(pd.cap().selector(),
		                                      binary.dataspace().selector(), "paged",
		                                      Signal_context_capability(exit_sigh).selector());
		log("parent: child started: ", started == 0);
	}
};

static unsigned long own[OWN_WORDS];

static void fill_own(void *)
{
	for (unsigned pass = 0; pass < 4; pass++)
		for (unsigned i = 0; i < OWN_WORDS; i++)
			own[i] = own[i] * 31 + i + pass;
}

static void child_role(Env &env)
{
	long const helper = rtcr_thread_create(fill_own, nullptr, 16 * 1024);
	long answer = -1;
	for (unsigned r = 0; r < ROUNDS; r++) {
		unsigned long volatile *window = (unsigned long volatile *)(PAGED + r * WINDOW);
		answer = (long)window[ANSWER_SELECTOR];
		log("child: window ", r, " holds round ", window[ROUND], ", its dataspace has ",
		    rtcr_ds_size((long)window[WINDOW_SELECTOR]), " bytes");
		for (unsigned i = 0; i < TABLE; i++)
			window[FIRST_TABLE_WORD + i] = window[WORK_RESULT] ^ (i * 0x9e3779b9UL) ^ r;
		unsigned (*function)() = (unsigned (*)())(PAGED + r * WINDOW + CODE);
		log("child: window ", r, " function returns ", function());
	}
	rtcr_thread_join(helper);
	unsigned long sum = 0;
	for (unsigned i = 0; i < OWN_WORDS; i++)
		sum += own[i];
	log("child: own RAM sums to ", Hex(sum));
	rtcr_signal_submit(answer);
	env.parent().exit(EXIT_VALUE);
}

void Component::construct(Env &env)
{
	if (env.pd().avail_ram().value > 2 * CHILD_RAM)
		static Parent_role parent(env);
	else
		child_role(env);
}
