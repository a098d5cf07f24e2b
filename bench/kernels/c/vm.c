/* vm: a bytecode interpreter (one `switch` in a loop, a value stack and registers)
 * running a small program that mixes arithmetic, branches and memory.
 * Usage: vm [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR,
    OP_SHL, OP_SHR, OP_DUP, OP_DROP, OP_SWAP, OP_LT, OP_JZ, OP_JMP, OP_INC,
    OP_MLOAD, OP_MSTORE, OP_MOD,
};

#define NREGS 8
#define MEMSZ 256

/* Runs `code` until OP_HALT; returns the top of the stack (0 if empty). */
static uint32_t run(const int32_t *code, uint32_t *regs, uint32_t *mem) {
    uint32_t stack[64];
    int sp = 0;
    int pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case OP_HALT: return sp ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case OP_LOAD: stack[sp++] = regs[code[pc++]]; break;
        case OP_STORE: regs[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHL: sp--; stack[sp - 1] <<= (stack[sp] & 31); break;
        case OP_SHR: sp--; stack[sp - 1] >>= (stack[sp] & 31); break;
        case OP_MOD: sp--; stack[sp - 1] %= (stack[sp] | 1); break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_SWAP: { uint32_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_JZ: { int32_t target = code[pc++]; if (stack[--sp] == 0) pc = target; break; }
        case OP_JMP: pc = code[pc]; break;
        case OP_INC: regs[code[pc++]]++; break;
        case OP_MLOAD: stack[sp - 1] = mem[stack[sp - 1] % MEMSZ]; break;
        case OP_MSTORE: sp -= 2; mem[stack[sp + 1] % MEMSZ] = stack[sp]; break; /* value, addr */
        default: return 0xdeadu;
        }
    }
}

/* The program, assembled at start-up with forward labels patched:
 *   r0 = i, r1 = n, r2 = x (LCG state), r3 = sum, r4 = odd count, r5 = t, r6 = even sum
 *   while (i < n) {
 *     x = x * 1103515245 + 12345;  t = x >> 16;
 *     mem[t] += t ^ i;
 *     if (t & 1) odd++; else even += mem[i] % 1000;
 *     sum = (sum + (t << 3)) ^ x;
 *     i++;
 *   }
 *   return (sum ^ odd ^ mem[n]) + even;          (memory addresses are taken modulo MEMSZ) */
static int32_t program[128];
static int plen;

static void emit(int32_t op) { program[plen++] = op; }
static void emit2(int32_t op, int32_t arg) { program[plen++] = op; program[plen++] = arg; }
/* Emits a jump with a placeholder target and returns where the target goes. */
static int emit_jump(int32_t op) { emit2(op, -1); return plen - 1; }

static void assemble(void) {
    int top = plen;
    emit2(OP_LOAD, 0); emit2(OP_LOAD, 1); emit(OP_LT);
    int to_end = emit_jump(OP_JZ);
    emit2(OP_LOAD, 2); emit2(OP_PUSH, 1103515245); emit(OP_MUL); emit2(OP_PUSH, 12345); emit(OP_ADD);
    emit(OP_DUP); emit2(OP_STORE, 2);
    emit2(OP_PUSH, 16); emit(OP_SHR); emit2(OP_STORE, 5);
    emit2(OP_LOAD, 5); emit(OP_MLOAD); emit2(OP_LOAD, 5); emit2(OP_LOAD, 0); emit(OP_XOR); emit(OP_ADD);
    emit2(OP_LOAD, 5); emit(OP_MSTORE);
    emit2(OP_LOAD, 5); emit2(OP_PUSH, 1); emit(OP_AND);
    int to_even = emit_jump(OP_JZ);
    emit2(OP_INC, 4);
    int to_join = emit_jump(OP_JMP);
    program[to_even] = plen;
    emit2(OP_LOAD, 0); emit(OP_MLOAD); emit2(OP_PUSH, 1000); emit(OP_MOD); emit2(OP_LOAD, 6); emit(OP_ADD);
    emit2(OP_STORE, 6);
    program[to_join] = plen;
    emit2(OP_LOAD, 3); emit2(OP_LOAD, 5); emit2(OP_PUSH, 3); emit(OP_SHL); emit(OP_ADD); emit2(OP_LOAD, 2);
    emit(OP_XOR); emit2(OP_STORE, 3);
    emit2(OP_INC, 0); emit2(OP_JMP, top);
    program[to_end] = plen;
    emit2(OP_LOAD, 3); emit2(OP_LOAD, 4); emit(OP_XOR); emit2(OP_LOAD, 1); emit(OP_MLOAD); emit(OP_XOR);
    emit2(OP_LOAD, 6); emit(OP_ADD); emit(OP_HALT);
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 13; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    static uint32_t mem[MEMSZ];
    assemble();
    uint32_t acc = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t regs[NREGS] = {0, 1000000u + (uint32_t)r, 12345u + (uint32_t)r, 0, 0, 0, 0, 0};
        acc = acc * 31u + run(program, regs, mem);
        acc ^= regs[4];
    }
    printf("vm %u\n", acc);
    return 0;
}
