	.file	"fib.c"
__SP_H__ = 0x3e
__SP_L__ = 0x3d
__SREG__ = 0x3f
__tmp_reg__ = 0
__zero_reg__ = 1
	.text
.global	fib
	.type	fib, @function
fib:
/* prologue: function */
/* frame size = 0 */
/* stack size = 0 */
.L__stack_usage = 0
	cp r24, __zero_reg__
	breq .L1
	ldi r25,lo8(-1)
	add r25,r24
	ldi r18,lo8(1)
	ldi r19,0
.L3:
	mov r24,r18
	add r18,r19
	subi r25,lo8(-(-1))
	mov r19,r24
	cpi r25,lo8(-1)
	brne .L3
.L1:
/* epilogue start */
	ret
	.size	fib, .-fib
	.section	.text.startup,"ax",@progbits
.global	main
	.type	main, @function
main:
/* prologue: function */
/* frame size = 0 */
/* stack size = 0 */
.L__stack_usage = 0
	sts out,__zero_reg__
	ldi r20,lo8(1)
.L9:
	ldi r25,lo8(-1)
	add r25,r20
	ldi r24,lo8(1)
	ldi r18,0
.L8:
	mov r19,r24
	add r24,r18
	subi r25,lo8(-(-1))
	mov r18,r19
	cpi r25,lo8(-1)
	brne .L8
	sts out,r19
	subi r20,lo8(-(1))
	cpi r20,lo8(10)
	brne .L9
	ldi r24,0
	ldi r25,0
/* epilogue start */
	ret
	.size	main, .-main
.global	out
	.section .bss
	.type	out, @object
	.size	out, 1
out:
	.zero	1
	.ident	"GCC: (GNU) 15.2.0"
.global __do_clear_bss
