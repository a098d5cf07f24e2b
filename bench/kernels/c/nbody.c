/* nbody: a gravitational n-body simulation in double precision (symplectic Euler steps),
 * bodies placed by a fixed-seed generator. Usage: nbody [SCALE]; prints one checksum line
 * (the final energy to 6 decimals and a hash of all positions' bits). Only +, -, *, / and
 * sqrt are used, which IEEE 754 rounds the same way on every engine. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 24

struct body { double x, y, z, vx, vy, vz, m; };

static void step(struct body *b, int n, double dt) {
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz + 0.01; /* softened */
            double mag = dt / (d2 * sqrt(d2));
            double mi = b[i].m * mag, mj = b[j].m * mag;
            b[i].vx -= dx * mj; b[i].vy -= dy * mj; b[i].vz -= dz * mj;
            b[j].vx += dx * mi; b[j].vy += dy * mi; b[j].vz += dz * mi;
        }
    }
    for (int i = 0; i < n; i++) {
        b[i].x += dt * b[i].vx; b[i].y += dt * b[i].vy; b[i].z += dt * b[i].vz;
    }
}

static double energy(const struct body *b, int n) {
    double e = 0;
    for (int i = 0; i < n; i++) {
        e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
        }
    }
    return e;
}

static double unit(uint32_t *x) { /* a multiple of 1/65536 in [-1, 1) */
    *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5;
    return (double)(int32_t)((*x >> 15) - 65536u) / 65536.0;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 43; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    struct body b[NB];
    uint32_t x = 521288629u;
    for (int i = 0; i < NB; i++) {
        b[i].x = 10 * unit(&x); b[i].y = 10 * unit(&x); b[i].z = 10 * unit(&x);
        b[i].vx = 0.1 * unit(&x); b[i].vy = 0.1 * unit(&x); b[i].vz = 0.1 * unit(&x);
        b[i].m = 1.0 + unit(&x) * 0.5;
    }
    double e0 = energy(b, NB);
    for (int s = 0; s < scale * 10000; s++) step(b, NB, 0.001);
    double e1 = energy(b, NB);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < NB; i++) {
        double p[3] = {b[i].x, b[i].y, b[i].z};
        for (int k = 0; k < 3; k++) {
            uint64_t u;
            memcpy(&u, &p[k], sizeof u);
            h = (h ^ u) * 1099511628211ull;
        }
    }
    printf("nbody %.6f %.6f %016llx\n", e0, e1, (unsigned long long)h);
    return 0;
}
