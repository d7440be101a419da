/*
 * The C++ runtime, one behaviour per LOG line: static constructors,
 * function-local statics, exceptions through a deep stack, RTTI, the heap,
 * destructors at exit, two threads throwing at once, and two threads
 * entering the same function-local static while it is being initialised.
 */
#include <rtcr.h>
#include <typeinfo>

static int constructed_before_main;

struct Early { Early() { constructed_before_main = 42; } } early;

struct Base { virtual ~Base() { } virtual int kind() const { return 1; } };
struct Derived : Base { int kind() const override { return 2; } };
struct Oops { int depth; };

static int deep(int n)
{
	if (n == 0) throw Oops { 7 };
	return deep(n - 1) + 1;
}

static int init_count;
static int make_value() { init_count++; return 99; }
static int local_static() { static int value = make_value(); return value; }

struct Goodbye { ~Goodbye() { rtcr_log("destructor at exit"); } };
static Goodbye goodbye;

/* Two threads, each inside its own catch block while the other throws. */
static int stage;

static void thrower(void *arg)
{
	long id = (long)arg;
	try {
		throw id;
	} catch (long caught) {
		__atomic_add_fetch(&stage, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&stage, __ATOMIC_SEQ_CST) < 2) rtcr_yield();   /* the other throws and catches meanwhile */
		try { throw; } catch (long again) {
			rtcr_printf("thread %ld rethrew its own exception: %s\n", id,
			            again == id ? "yes" : "no");
		}
	}
}

/* The initialiser yields: the second racer arrives while the first is inside it. */
static int slow_count, in_init, arrived_during_init, seen[2];

static int slow_make()
{
	slow_count++;
	in_init = 1;
	for (int i = 0; i < 5; i++) rtcr_yield();
	in_init = 0;
	return 7;
}

static void racer(void *arg)
{
	arrived_during_init += in_init;
	static int value = slow_make();
	seen[(long)arg] = value;
}

int main()
{
	rtcr_printf("constructor ran before main: %d\n", constructed_before_main);

	try { deep(50); } catch (Oops const &o) { rtcr_printf("caught through 50 frames: %d\n", o.depth); }

	local_static(); local_static();
	rtcr_printf("local static initialised %d time(s): %d\n", init_count, local_static());

	Base *b = new Derived;
	rtcr_printf("dynamic_cast: %s, typeid: %s\n", dynamic_cast<Derived *>(b) ? "ok" : "null",
	            typeid(*b) == typeid(Derived) ? "Derived" : "other");
	delete b;

	char *small = (char *)malloc(24), *big = (char *)malloc(200000);
	small = (char *)realloc(small, 5000);
	void *aligned = aligned_alloc(4096, 100);
	rtcr_printf("heap: %s, aligned %s\n", small && big ? "ok" : "failed",
	            ((unsigned long)aligned & 4095) == 0 ? "yes" : "no");
	free(small); free(big); free(aligned);

	try { throw 1.5; } catch (int) { rtcr_log("wrong handler"); } catch (double d) {
		rtcr_printf("caught by type: %g\n", d);
	}

	long a = rtcr_thread_create(thrower, (void *)1L, 0);
	long c = rtcr_thread_create(thrower, (void *)2L, 0);
	rtcr_thread_join(a);
	rtcr_thread_join(c);

	long r0 = rtcr_thread_create(racer, (void *)0L, 0);
	long r1 = rtcr_thread_create(racer, (void *)1L, 0);
	rtcr_thread_join(r0);
	rtcr_thread_join(r1);
	rtcr_printf("contended local static: initialised %d time(s), %d racer(s) waited, "
	            "both saw %d %d\n", slow_count, arrived_during_init, seen[0], seen[1]);
	return 0;
}
