/* vtable: indirect calls (call_indirect in wasm) through tables of function pointers:
 * shapes with a per-kind table of methods, visited by several visitors.
 * Usage: vtable [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct shape;

struct shape_ops {
    int32_t (*area)(const struct shape *);
    int32_t (*perimeter)(const struct shape *);
    void (*grow)(struct shape *, int32_t);
    uint32_t (*tag)(const struct shape *);
};

struct shape {
    const struct shape_ops *ops;
    int32_t a, b, c; /* kind-specific dimensions, in integer units */
};

/* Rectangles: a x b. */
static int32_t rect_area(const struct shape *s) { return s->a * s->b; }
static int32_t rect_perimeter(const struct shape *s) { return 2 * (s->a + s->b); }
static void rect_grow(struct shape *s, int32_t d) { s->a = (s->a + d) & 1023; s->b = (s->b + 2 * d) & 1023; }
static uint32_t rect_tag(const struct shape *s) { (void)s; return 1; }

/* Squares: side a. */
static int32_t square_area(const struct shape *s) { return s->a * s->a; }
static int32_t square_perimeter(const struct shape *s) { return 4 * s->a; }
static void square_grow(struct shape *s, int32_t d) { s->a = (s->a + d) & 1023; }
static uint32_t square_tag(const struct shape *s) { (void)s; return 2; }

/* Right triangles: legs a, b, hypotenuse approximated as c. */
static int32_t tri_area(const struct shape *s) { return s->a * s->b / 2; }
static int32_t tri_perimeter(const struct shape *s) { return s->a + s->b + s->c; }
static void tri_grow(struct shape *s, int32_t d) {
    s->a = (s->a + d) & 511; s->b = (s->b + d) & 511;
    s->c = s->a > s->b ? s->a + s->b / 2 : s->b + s->a / 2;
}
static uint32_t tri_tag(const struct shape *s) { return 3 + ((uint32_t)s->c & 1); }

/* Circles: radius a, pi as 355/113. */
static int32_t circle_area(const struct shape *s) { return s->a * s->a * 355 / 113; }
static int32_t circle_perimeter(const struct shape *s) { return 2 * s->a * 355 / 113; }
static void circle_grow(struct shape *s, int32_t d) { s->a = (s->a + d) & 255; }
static uint32_t circle_tag(const struct shape *s) { return 5 + ((uint32_t)s->a & 3); }

static const struct shape_ops kinds[4] = {
    {rect_area, rect_perimeter, rect_grow, rect_tag},
    {square_area, square_perimeter, square_grow, square_tag},
    {tri_area, tri_perimeter, tri_grow, tri_tag},
    {circle_area, circle_perimeter, circle_grow, circle_tag},
};

/* Visitors: each folds one shape into an accumulator. */
typedef uint32_t (*visitor)(uint32_t acc, struct shape *s);
static uint32_t visit_area(uint32_t acc, struct shape *s) { return acc + (uint32_t)s->ops->area(s); }
static uint32_t visit_perimeter(uint32_t acc, struct shape *s) { return acc * 3u + (uint32_t)s->ops->perimeter(s); }
static uint32_t visit_grow(uint32_t acc, struct shape *s) { s->ops->grow(s, (int32_t)(acc & 7) + 1); return acc + 1; }
static uint32_t visit_tag(uint32_t acc, struct shape *s) { return (acc << 1 | acc >> 31) ^ s->ops->tag(s); }
static const visitor visitors[4] = {visit_area, visit_perimeter, visit_grow, visit_tag};

#define NSHAPES 4096

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 25; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    static struct shape shapes[NSHAPES];
    uint32_t x = 2463534242u;
    for (int i = 0; i < NSHAPES; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        shapes[i].ops = &kinds[x & 3];
        shapes[i].a = (int32_t)((x >> 4) & 255) + 1;
        shapes[i].b = (int32_t)((x >> 12) & 255) + 1;
        shapes[i].c = (int32_t)((x >> 20) & 255) + 1;
    }
    uint32_t acc = 0;
    for (int r = 0; r < scale * 100; r++) {
        for (int v = 0; v < 4; v++) {
            visitor f = visitors[(v + r) & 3];
            uint32_t part = (uint32_t)r;
            for (int i = 0; i < NSHAPES; i++) part = f(part, &shapes[i]);
            acc = acc * 31u + part;
        }
    }
    printf("vtable %u\n", acc);
    return 0;
}
