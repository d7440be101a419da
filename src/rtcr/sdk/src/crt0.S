/*
 * crt0 of rtcr components.
 *
 * _start: the machine enters the main thread here with rsp 16-byte aligned
 * at the top of a fresh stack (rsp % 16 == 0) and every other register 0.
 * We run the static constructors (_rtcr_init), read the inputs (_rtcr_args,
 * args.c: argc, argv, envp from the "args" ROM, or 0 and empty lists), call
 * main(argc, argv, envp) (which also serves `int main(void)`), and end the
 * component with main's return value through exit(), which runs the atexit
 * handlers and destructors and flushes a partial printf line.
 *
 * _rtcr_thread_trampoline: THREAD_CREATE starts new threads here with
 * rdi = entry, rsi = arg and rsp % 16 == 8 (as right after a call).  It
 * calls entry(arg) and then rtcr_thread_exit(); it never returns.
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp		/* outermost frame */
	andq	$-16, %rsp		/* be robust against a misaligned stack */
	call	_rtcr_init		/* static constructors */
	subq	$32, %rsp		/* int argc; char **argv, **envp (rsp stays 16-aligned) */
	leaq	0(%rsp), %rdi
	leaq	8(%rsp), %rsi
	leaq	16(%rsp), %rdx
	call	_rtcr_args
	movl	0(%rsp), %edi		/* argc */
	movq	8(%rsp), %rsi		/* argv */
	movq	16(%rsp), %rdx		/* envp */
	call	main
	movl	%eax, %edi
	call	exit			/* never returns */
1:	movl	$0, %eax		/* RTCR_SYS_EXIT, in case it did */
	syscall
	jmp	1b
	.size	_start, .-_start

	.globl	_rtcr_thread_trampoline
	.type	_rtcr_thread_trampoline, @function
_rtcr_thread_trampoline:
	xorl	%ebp, %ebp
	andq	$-16, %rsp		/* rsp % 16 == 0 before the call */
	movq	%rdi, %rax		/* entry */
	movq	%rsi, %rdi		/* arg */
	call	*%rax
	call	rtcr_thread_exit	/* never returns */
2:	movl	$15, %eax		/* RTCR_SYS_THREAD_EXIT, in case it did */
	syscall
	jmp	2b
	.size	_rtcr_thread_trampoline, .-_rtcr_thread_trampoline

	.section .note.GNU-stack,"",@progbits
